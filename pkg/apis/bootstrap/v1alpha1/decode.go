package v1alpha1

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/util/validation/field"
	sigsjson "sigs.k8s.io/json"
)

// APIVersion is the apiVersion every configuration file must declare.
const APIVersion = GroupName + "/" + Version

// Decode parses one YAML (or JSON) document into a BootstrapConfiguration,
// strictly: unknown fields, duplicate fields, values of the wrong type, a
// missing or wrong apiVersion/kind, an empty file and more than one document
// are all errors. It does not default or validate.
//
// Errors are returned as *InvalidError (with an empty Source) holding field
// errors. When only field-level problems were found (unknown or duplicate
// fields, type mismatches) the partially decoded configuration is returned
// too, so that Load can still validate the rest and report every error at
// once; otherwise the configuration is nil.
func Decode(data []byte) (*BootstrapConfiguration, error) {
	doc, errs := parseDocument(data)
	if len(errs) > 0 {
		return nil, &InvalidError{Errs: errs}
	}
	if errs := checkTypeMeta(doc); len(errs) > 0 {
		// Another schema: its unknown fields would only be noise.
		return nil, &InvalidError{Errs: errs}
	}

	w := &walker{lines: map[string]int{}, values: map[string]string{}, budget: maxNodes}
	var buf bytes.Buffer
	w.toJSON(&buf, doc, nil, false)
	errs = w.errs
	for _, e := range errs {
		if e.Field == "" { // the document as a whole is unusable
			return nil, &InvalidError{Errs: errs}
		}
	}

	c := &BootstrapConfiguration{}
	// Duplicates were reported by the walker, with line numbers; the JSON it
	// wrote keeps the last occurrence. sigs.k8s.io/json reports unknown fields
	// with their full path and matches field names case-sensitively (plain
	// encoding/json would silently accept "ClusterName").
	strict, err := sigsjson.UnmarshalStrict(buf.Bytes(), c, sigsjson.DisallowUnknownFields)
	for _, se := range strict {
		var fe sigsjson.FieldError
		if errors.As(se, &fe) {
			errs = append(errs, w.unknownField(fe.FieldPath()))
		} else {
			errs = append(errs, field.Invalid(nil, field.OmitValueType{}, se.Error()))
		}
	}
	if err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			errs = append(errs, w.typeError(te))
		} else {
			errs = append(errs, field.Invalid(nil, field.OmitValueType{}, err.Error()))
		}
	}
	if len(errs) > 0 {
		return c, &InvalidError{Errs: errs}
	}
	return c, nil
}

// parseDocument returns the single top-level mapping of data.
func parseDocument(data []byte) (*yaml.Node, field.ErrorList) {
	empty := field.ErrorList{rootError(fmt.Sprintf(
		"the configuration is empty: it needs at least apiVersion: %s, kind: %s and apiServer.advertiseAddress", APIVersion, Kind))}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, empty
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, empty
		}
		return nil, field.ErrorList{rootError("not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: "))}
	}
	for {
		// Empty documents after the first (a trailing "---") are harmless.
		var extra yaml.Node
		err := dec.Decode(&extra)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil || len(extra.Content) > 0 && extra.Content[0].ShortTag() != "!!null" {
			return nil, field.ErrorList{rootError("more than one YAML document: the file must hold exactly one " + Kind)}
		}
	}
	if len(doc.Content) == 0 || doc.Content[0].ShortTag() == "!!null" { // e.g. only "---"
		return nil, empty
	}
	m := doc.Content[0]
	if m.Kind != yaml.MappingNode {
		return nil, field.ErrorList{rootError(fmt.Sprintf(
			"line %d: expected a YAML mapping (apiVersion: %s, kind: %s, ...), found %s", m.Line, APIVersion, Kind, describe(m)))}
	}
	return m, nil
}

// rootError is an error about the file as a whole: its field path is empty.
func rootError(detail string) *field.Error {
	return &field.Error{Type: field.ErrorTypeInvalid, BadValue: field.OmitValueType{}, Detail: detail}
}

func checkTypeMeta(m *yaml.Node) field.ErrorList {
	var errs field.ErrorList
	for _, want := range []struct{ key, value string }{{"apiVersion", APIVersion}, {"kind", Kind}} {
		p := field.NewPath(want.key)
		v := mappingValue(m, want.key)
		switch {
		case v == nil:
			errs = append(errs, field.Required(p, fmt.Sprintf("must be %q", want.value)))
		case v.Kind != yaml.ScalarNode || v.Value != want.value:
			errs = append(errs, field.NotSupported(p, v.Value, []string{want.value}))
		}
	}
	return errs
}

func mappingValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// walker converts the YAML tree to JSON itself rather than through
// sigs.k8s.io/yaml, because it needs what that conversion throws away: the
// line of every field (for messages), duplicate keys (which YAML→JSON
// conversion resolves silently) and YAML 1.2 scalars (so `on` stays a string).
type walker struct {
	lines  map[string]int    // field path → line
	values map[string]string // field path → scalar as written
	errs   field.ErrorList
	budget int // nodes left to visit; aliases can make a small file huge
}

// maxNodes bounds the expanded document: a real configuration has a few
// hundred nodes, a "billion laughs" file of nested aliases has billions.
const maxNodes = 10000

// toJSON writes n as JSON. stringly is set below extraArgs, whose values are
// command-line strings: `v: 4` must not be a type error.
func (w *walker) toJSON(buf *bytes.Buffer, n *yaml.Node, p *field.Path, stringly bool) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if w.budget--; w.budget == 0 {
		w.errs = append(w.errs, rootError(fmt.Sprintf("line %d: the document expands to more than %d nodes (nested aliases?)", n.Line, maxNodes)))
	}
	if w.budget <= 0 {
		buf.WriteString("null")
		return
	}
	w.lines[p.String()] = n.Line
	switch n.Kind {
	case yaml.MappingNode:
		buf.WriteByte('{')
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				w.errs = append(w.errs, field.Invalid(p, field.OmitValueType{}, fmt.Sprintf("line %d: keys must be plain strings", k.Line)))
				continue
			}
			if k.ShortTag() == "!!merge" {
				// Merging would need its own duplicate and override rules.
				w.errs = append(w.errs, field.Forbidden(p.Child(k.Value), fmt.Sprintf("line %d: YAML merge keys are not supported: write the fields out", k.Line)))
				continue
			}
			isMap := p != nil && strings.HasSuffix(p.String(), "extraArgs")
			cp := p.Child(k.Value)
			if isMap {
				cp = p.Key(k.Value)
			}
			if first, dup := seen[k.Value]; dup {
				w.errs = append(w.errs, &field.Error{Type: field.ErrorTypeDuplicate, Field: cp.String(), BadValue: field.OmitValueType{},
					Detail: fmt.Sprintf("set twice, on lines %d and %d", first, k.Line)})
			}
			seen[k.Value] = k.Line
			if buf.Len() > 0 && buf.Bytes()[buf.Len()-1] != '{' {
				buf.WriteByte(',')
			}
			writeString(buf, k.Value)
			buf.WriteByte(':')
			w.toJSON(buf, v, cp, stringly || isMap)
		}
		buf.WriteByte('}')
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for i, e := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			w.toJSON(buf, e, p.Index(i), stringly)
		}
		buf.WriteByte(']')
	case yaml.ScalarNode:
		w.values[p.String()] = n.Value
		w.scalar(buf, n, p, stringly)
	default:
		buf.WriteString("null")
	}
}

func (w *walker) scalar(buf *bytes.Buffer, n *yaml.Node, p *field.Path, stringly bool) {
	tag := n.ShortTag()
	if stringly && tag != "!!null" {
		tag = "!!str"
	}
	switch tag {
	case "!!null":
		buf.WriteString("null")
	case "!!bool":
		var b bool
		_ = n.Decode(&b)
		buf.WriteString(strconv.FormatBool(b))
	case "!!int":
		var i int64
		if err := n.Decode(&i); err != nil {
			w.errs = append(w.errs, field.Invalid(p, n.Value, "integer out of range"))
			buf.WriteString("null")
			return
		}
		buf.WriteString(strconv.FormatInt(i, 10))
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil || f != f || f > 1e308 || f < -1e308 {
			w.errs = append(w.errs, field.Invalid(p, n.Value, "not a finite number"))
			buf.WriteString("null")
			return
		}
		buf.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
	default: // !!str, !!timestamp, !!binary: keep the text as written
		if p.String() == "certificates.caValidity" || p.String() == "certificates.validity" {
			// metav1.Duration's own error would carry no field path.
			if _, err := time.ParseDuration(n.Value); err != nil {
				w.errs = append(w.errs, field.Invalid(p, n.Value, `must be a duration such as "8760h" or "90m"`))
				buf.WriteString("null")
				return
			}
		}
		writeString(buf, n.Value)
	}
}

func writeString(buf *bytes.Buffer, s string) {
	b, _ := json.Marshal(s)
	buf.Write(b)
}

func (w *walker) unknownField(path string) *field.Error {
	detail := "unknown field"
	if s := suggest(path); s != "" {
		detail += fmt.Sprintf(" (did you mean %q?)", s)
	}
	if l, ok := w.lines[path]; ok {
		detail = fmt.Sprintf("line %d: %s", l, detail)
	}
	return &field.Error{Type: field.ErrorTypeForbidden, Field: path, BadValue: "", Detail: detail}
}

func (w *walker) typeError(te *json.UnmarshalTypeError) *field.Error {
	want := te.Type.String()
	switch te.Type.Kind() {
	case reflect.String:
		want = "a string (quote the value)"
	case reflect.Int32, reflect.Int64, reflect.Int:
		want = "an integer"
		if n, ok := strings.CutPrefix(te.Value, "number "); ok && !strings.ContainsAny(n, ".eE") {
			bits := te.Type.Bits()
			want = fmt.Sprintf("an integer between %d and %d", int64(-1)<<(bits-1), uint64(1)<<(bits-1)-1)
		}
	case reflect.Slice:
		want = "a list"
	case reflect.Struct, reflect.Map, reflect.Pointer:
		want = "a mapping"
	}
	var bad any = field.OmitValueType{}
	if v, ok := w.values[te.Field]; ok {
		bad = v
	}
	detail := fmt.Sprintf("must be %s, found %s", want, te.Value)
	if l, ok := w.lines[te.Field]; ok {
		detail = fmt.Sprintf("line %d: %s", l, detail)
	}
	return field.TypeInvalid(pathFromString(te.Field), bad, detail)
}

// pathFromString turns a dotted path back into a *field.Path so that errors
// print exactly like validation errors.
func pathFromString(s string) *field.Path {
	var p *field.Path
	for _, part := range strings.Split(s, ".") {
		if part != "" {
			p = p.Child(part)
		}
	}
	return p
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("the text %q", truncate(n.Value, 40))
	}
	return "something else"
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
