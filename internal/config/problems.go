package config

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Errors wrapped by every Problem, by category.
var (
	// ErrSyntax: the file is not valid TOML or a value has the wrong TOML
	// type.
	ErrSyntax = errors.New("config: syntax error")
	// ErrUnknownKey: a key the configuration does not define (strict mode).
	ErrUnknownKey = errors.New("config: unknown key")
	// ErrMissing: a required key is absent.
	ErrMissing = errors.New("config: required key missing")
	// ErrInvalid: a value is out of range or malformed.
	ErrInvalid = errors.New("config: invalid value")
	// ErrFile: a file named by the configuration cannot be used (missing,
	// unreadable, wrong content).
	ErrFile = errors.New("config: unusable file")
	// ErrInsecureFile: a file's permissions or owner let others read a
	// secret or replace trusted material. It also matches ErrFile.
	ErrInsecureFile = fmt.Errorf("%w: insecure permissions", ErrFile)
)

// Problem is one thing wrong with a configuration: where (file, line, key
// path) and what (Err, which wraps one of the package's sentinels).
type Problem struct {
	File string // configuration file name ("" if none)
	Line int    // 1-based line, 0 when unknown
	Key  string // key path such as "rate_limit.per_source.burst" or "neighbor[1].address"
	Err  error
}

// Error formats the problem as FILE:LINE: KEY: ERR.
func (p *Problem) Error() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(p.Line))
		}
		b.WriteString(": ")
	} else if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Key != "" {
		b.WriteString(p.Key)
		b.WriteString(": ")
	}
	b.WriteString(p.Err.Error())
	return b.String()
}

// Unwrap returns Err.
func (p *Problem) Unwrap() error { return p.Err }

// Problems is every problem found in a configuration, in file order where
// lines are known. errors.Is and errors.As look into each one.
type Problems []*Problem

// Error lists the problems, one a line.
func (ps Problems) Error() string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap returns the problems as errors.
func (ps Problems) Unwrap() []error {
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = p
	}
	return errs
}

// err returns ps as an error, or nil when there is none.
func (ps Problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	// File order; problems without a line last.
	slices.SortStableFunc(ps, func(a, b *Problem) int {
		la, lb := a.Line, b.Line
		if la == 0 {
			la = math.MaxInt
		}
		if lb == 0 {
			lb = math.MaxInt
		}
		return cmp.Compare(la, lb)
	})
	return ps
}

// collector gathers problems for one file and finds the lines of keys.
type collector struct {
	file  string
	lines map[string]int
	ps    Problems
}

func newCollector(file string, data []byte) *collector {
	return &collector{file: file, lines: keyLines(data)}
}

// add records err (which must wrap a sentinel) for key.
func (c *collector) add(key string, err error) {
	c.ps = append(c.ps, &Problem{File: c.file, Line: c.line(key), Key: key, Err: err})
}

// addf records fmt.Errorf("%w: "+format, sentinel, args...) for key.
func (c *collector) addf(key string, sentinel error, format string, args ...any) {
	c.add(key, fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...))
}

// line returns the line of key, else of its closest parent that has one.
func (c *collector) line(key string) int {
	for k := key; k != ""; {
		if l, ok := c.lines[k]; ok {
			return l
		}
		i := strings.LastIndexAny(k, ".[")
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return 0
}

// keyLines maps the key paths of a TOML document to the line where each is
// set, with array-of-tables entries indexed ("neighbor[1].address") as the
// validation names them, and also unindexed ("neighbor.address", first
// occurrence) as MetaData.Undecoded names them. It is a line scanner, not a
// parser: it only runs on documents the TOML parser accepted, and a key it
// misses just loses its line number.
func keyLines(data []byte) map[string]int {
	m := make(map[string]int)
	put := func(k string, line int) {
		if _, ok := m[k]; !ok {
			m[k] = line
		}
	}
	prefix, plain := "", "" // current table, indexed and unindexed
	arrays := map[string]int{}
	inMultiline := ""
	for i, raw := range strings.Split(string(data), "\n") {
		line := i + 1
		s := strings.TrimSpace(raw)
		if inMultiline != "" {
			if strings.Contains(s, inMultiline) {
				inMultiline = ""
			}
			continue
		}
		if s == "" || s[0] == '#' {
			continue
		}
		if strings.HasPrefix(s, "[[") {
			name := keyPath(strings.TrimSuffix(strings.TrimSpace(strings.SplitN(s[2:], "]]", 2)[0]), "]"))
			idx := arrays[name]
			arrays[name]++
			prefix = name + "[" + strconv.Itoa(idx) + "]"
			plain = name
			put(prefix, line)
			put(plain, line)
			continue
		}
		if s[0] == '[' {
			name := keyPath(strings.SplitN(s[1:], "]", 2)[0])
			prefix, plain = name, name
			put(prefix, line)
			continue
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			continue
		}
		k := keyPath(s[:eq])
		val := strings.TrimSpace(s[eq+1:])
		for _, q := range []string{`"""`, `'''`} {
			if strings.HasPrefix(val, q) && !strings.Contains(val[3:], q) {
				inMultiline = q
			}
		}
		full, fullPlain := join(prefix, k), join(plain, k)
		put(full, line)
		put(fullPlain, line)
		if strings.HasPrefix(val, "{") { // inline table: record its keys too
			for _, part := range strings.Split(strings.Trim(val, "{} "), ",") {
				if e := strings.IndexByte(part, '='); e > 0 {
					sub := keyPath(part[:e])
					put(join(full, sub), line)
					put(join(fullPlain, sub), line)
				}
			}
		}
	}
	return m
}

// keyPath normalises a dotted TOML key: pieces trimmed and unquoted.
func keyPath(s string) string {
	parts := strings.Split(s, ".")
	for i, p := range parts {
		parts[i] = strings.Trim(strings.TrimSpace(p), `"'`)
	}
	return strings.Join(parts, ".")
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

// openErr drops the result of an Open call and keeps its error.
func openErr[T any](_ T, err error) error { return err }

// mergeProblems concatenates the Problems of a and b (either may be nil).
func mergeProblems(a, b error) error {
	var ps Problems
	for _, e := range []error{a, b} {
		switch x := e.(type) {
		case nil:
		case Problems:
			ps = append(ps, x...)
		default:
			ps = append(ps, &Problem{Err: e})
		}
	}
	return ps.err()
}
