package node

import (
	"reflect"
	"slices"
	"strings"

	"github.com/fhkey/fhkey/internal/config"
	"github.com/fhkey/fhkey/send"
)

// SENDVerifier is send.NewVerifier with the [send] settings (RFC 3971
// §10.2 timestamp variables, §5.1.3 key sizes).
func SENDVerifier(method send.AuthorizationMethod, s config.SEND) *send.Verifier {
	v := send.NewVerifier(method)
	if ts, err := send.NewTimestampCache(s.Timestamp, send.DefaultTimestampCacheSize); err == nil {
		v.Timestamps = ts
		v.Replay = send.NewReplayCache(send.DefaultReplayCacheSize, s.Timestamp.Delta+s.Timestamp.Fuzz)
	}
	v.MinBits, v.MaxBits = s.MinKeyBits, s.MaxKeyBits
	return v
}

// restartOnly lists, for a reload, the settings that changed but take
// effect only at the next restart: every exported field of the
// configuration except File, Log and HTTP (the daemon applies log.level and
// reports [http] and log.format itself) and the live fields, given by path
// ("KeyLifetime", "Forwarding.Lifetime"). A struct holding live fields is
// compared field by field; changed fields are named by path.
func restartOnly(old, new any, live ...string) []string {
	return changedFields(reflect.ValueOf(old).Elem(), reflect.ValueOf(new).Elem(), "", live)
}

// changedFields is restartOnly for the structs ov and nv, whose fields are
// named prefix + field name.
func changedFields(ov, nv reflect.Value, prefix string, live []string) []string {
	var changed []string
	for i := range ov.NumField() {
		f := ov.Type().Field(i)
		path := prefix + f.Name
		if !f.IsExported() || slices.Contains(live, path) ||
			(prefix == "" && (f.Name == "File" || f.Name == "Log" || f.Name == "HTTP")) {
			continue
		}
		if f.Type.Kind() == reflect.Struct && slices.ContainsFunc(live, func(l string) bool { return strings.HasPrefix(l, path+".") }) {
			changed = append(changed, changedFields(ov.Field(i), nv.Field(i), path+".", live)...)
			continue
		}
		if !reflect.DeepEqual(ov.Field(i).Interface(), nv.Field(i).Interface()) {
			changed = append(changed, path)
		}
	}
	return changed
}

// changedLive lists the fields of live (paths into the configuration
// structs old and new point to) that differ.
func changedLive(old, new any, live []string) []string {
	ov, nv := reflect.ValueOf(old).Elem(), reflect.ValueOf(new).Elem()
	var changed []string
	for _, path := range live {
		if !reflect.DeepEqual(fieldByPath(ov, path).Interface(), fieldByPath(nv, path).Interface()) {
			changed = append(changed, path)
		}
	}
	return changed
}

// fieldByPath returns the field of the struct v at path ("Forwarding.Lifetime").
// A path naming no field is a programmer error (TestARLiveFields).
func fieldByPath(v reflect.Value, path string) reflect.Value {
	for name := range strings.SplitSeq(path, ".") {
		v = v.FieldByName(name)
	}
	return v
}
