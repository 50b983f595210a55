package v1alpha1

import (
	"reflect"
	"strings"
)

// suggest returns the known field closest to the last element of an unknown
// field's dotted path ("apiServer.advertiseAdress" → "advertiseAddress"), or
// "" when nothing is close. Typos and wrong capitalisation are the usual
// reason for an unknown field, and a name is faster to act on than a schema.
func suggest(path string) string {
	parts := strings.Split(path, ".")
	t := reflect.TypeOf(BootstrapConfiguration{})
	for _, part := range parts[:len(parts)-1] {
		if i := strings.IndexByte(part, '['); i >= 0 {
			part = part[:i]
		}
		f, ok := jsonField(t, part)
		if !ok {
			return ""
		}
		t = f.Type
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return ""
		}
	}
	unknown := parts[len(parts)-1]
	best, bestDist := "", 3 // at most two edits away
	for _, name := range jsonNames(t) {
		if strings.EqualFold(name, unknown) {
			return name
		}
		if d := editDistance(strings.ToLower(name), strings.ToLower(unknown)); d < bestDist && d*3 <= len(unknown) {
			best, bestDist = name, d
		}
	}
	if best == "" {
		// Not a typo but a field at the wrong level, e.g. podCIDR at the top.
		best = findField(reflect.TypeOf(BootstrapConfiguration{}), unknown, "")
	}
	return best
}

// findField returns the full path of a field named name (ignoring case)
// anywhere in t, or "".
func findField(t reflect.Type, name, prefix string) string {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		n, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if n == "" || n == "-" {
			continue
		}
		if strings.EqualFold(n, name) {
			return prefix + n
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft.PkgPath() == t.PkgPath() {
			if p := findField(ft, name, prefix+n+"."); p != "" {
				return p
			}
		}
	}
	return ""
}

// jsonNames lists the JSON names of t's fields, flattening inlined structs.
func jsonNames(t reflect.Type) []string {
	var names []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-":
		case name == "" && f.Anonymous:
			names = append(names, jsonNames(f.Type)...)
		case name == "":
			names = append(names, f.Name)
		default:
			names = append(names, name)
		}
	}
	return names
}

func jsonField(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if n, _, _ := strings.Cut(f.Tag.Get("json"), ","); n == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
