package decode

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"reflect"
	"time"
)

// scalar formats the leaf values the wire packages use; ok is false for
// structs, slices and interfaces that need walking.
func scalar(v reflect.Value) (string, bool) {
	if !v.IsValid() {
		return "<nil>", true
	}
	switch x := v.Interface().(type) {
	case netip.Addr:
		if !x.IsValid() {
			return "(none)", true
		}
		return x.String(), true
	case netip.Prefix:
		return x.String(), true
	case net.HardwareAddr:
		return x.String(), true
	case time.Duration:
		return x.String(), true
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano), true
	case []byte:
		if len(x) == 0 {
			return "(empty)", true
		}
		return hex.EncodeToString(x), true
	case fmt.Stringer:
		if v.Kind() != reflect.Struct && v.Kind() != reflect.Pointer {
			return fmt.Sprintf("%s (%d)", x, v.Interface()), true
		}
	}
	switch v.Kind() {
	case reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			b := make([]byte, v.Len())
			reflect.Copy(reflect.ValueOf(b), v)
			return hex.EncodeToString(b), true
		}
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uint, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Bool, reflect.String:
		return fmt.Sprint(v.Interface()), true
	}
	return "", false
}

// writeValue prints v (a message, option or nested struct) as an indented
// list of field names and values.
func writeValue(w *bytes.Buffer, ind, label string, v reflect.Value) {
	for v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer {
		if v.IsNil() {
			fmt.Fprintf(w, "%s%s<nil>\n", ind, label)
			return
		}
		v = v.Elem()
	}
	if s, ok := scalar(v); ok {
		fmt.Fprintf(w, "%s%s%s\n", ind, label, s)
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		fmt.Fprintf(w, "%s%s%s\n", ind, label, v.Type().Name())
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			if !t.Field(i).IsExported() {
				continue
			}
			f := v.Field(i)
			name := t.Field(i).Name
			if s, ok := scalar(f); ok {
				if name == "Checksum" && f.Kind() == reflect.Uint16 {
					s = fmt.Sprintf("0x%04x", f.Uint())
				}
				// Wire timestamps (NTP, RFC 3971) also as a time.
				if m := f.MethodByName("Time"); m.IsValid() && m.Type().NumIn() == 0 && m.Type().NumOut() == 1 && m.Type().Out(0) == reflect.TypeOf(time.Time{}) {
					s += " (" + m.Call(nil)[0].Interface().(time.Time).UTC().Format(time.RFC3339Nano) + ")"
				}
				fmt.Fprintf(w, "%s  %s: %s\n", ind, name, s)
				continue
			}
			if (f.Kind() == reflect.Slice) && f.Len() == 0 {
				fmt.Fprintf(w, "%s  %s: (none)\n", ind, name)
				continue
			}
			fmt.Fprintf(w, "%s  %s:\n", ind, name)
			writeValue(w, ind+"    ", "", f)
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			writeValue(w, ind, fmt.Sprintf("[%d] ", i), v.Index(i))
		}
	default:
		fmt.Fprintf(w, "%s%s%v\n", ind, label, v.Interface())
	}
}

// toJSON converts v to JSON-ready values: structs to objects with a "type"
// member, byte strings to hex, addresses to text.
func toJSON(v reflect.Value) any {
	for v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	switch x := v.Interface().(type) {
	case netip.Addr, netip.Prefix, net.HardwareAddr, time.Duration:
		if a, ok := x.(netip.Addr); ok && !a.IsValid() {
			return nil
		}
		return fmt.Sprint(x)
	case []byte:
		return hex.EncodeToString(x)
	}
	switch v.Kind() {
	case reflect.Struct:
		obj := map[string]any{"type": v.Type().Name()}
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			if t.Field(i).IsExported() {
				obj[t.Field(i).Name] = toJSON(v.Field(i))
			}
		}
		return obj
	case reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			b := make([]byte, v.Len())
			reflect.Copy(reflect.ValueOf(b), v)
			return hex.EncodeToString(b)
		}
		fallthrough
	case reflect.Slice:
		arr := make([]any, v.Len())
		for i := range arr {
			arr[i] = toJSON(v.Index(i))
		}
		return arr
	}
	return v.Interface()
}
