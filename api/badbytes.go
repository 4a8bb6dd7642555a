package api

import (
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	ds "github.com/federated-customers/gateway/datasource"
)

// badBytes refuses an operation whose variables or literal arguments hold
// a string with a NUL byte or invalid UTF-8, before anything runs. No
// vendor id, filter or customer field can carry them, and such a string
// reaches Postgres (the cache keys, the identity index) as a statement it
// rejects: bad input, not an outage.
func badBytes(rc *graphql.OperationContext) *gqlerror.Error {
	for name, v := range rc.Variables {
		if !cleanValue(v) {
			return badBytesError("variable $" + name)
		}
	}
	if rc.Doc == nil {
		return nil
	}
	var where string
	var walk func(set ast.SelectionSet) bool
	walk = func(set ast.SelectionSet) bool {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				for _, a := range s.Arguments {
					if !cleanLiteral(a.Value) {
						where = fmt.Sprintf("argument %s of %s", a.Name, s.Name)
						return false
					}
				}
				if !walk(s.SelectionSet) {
					return false
				}
			case *ast.InlineFragment:
				if !walk(s.SelectionSet) {
					return false
				}
			}
		}
		return true
	}
	for _, op := range rc.Doc.Operations {
		if !walk(op.SelectionSet) {
			return badBytesError(where)
		}
	}
	for _, f := range rc.Doc.Fragments {
		if !walk(f.SelectionSet) {
			return badBytesError(where)
		}
	}
	return nil
}

func badBytesError(where string) *gqlerror.Error {
	return &gqlerror.Error{
		Message:    where + " holds a NUL byte or invalid UTF-8, which no id, filter or field may carry",
		Extensions: map[string]any{"code": string(ds.CodeBadUserInput)},
	}
}

// cleanValue checks a decoded variable: strings, and those in lists and objects.
func cleanValue(v any) bool {
	switch v := v.(type) {
	case string:
		return ds.CleanText(v)
	case []any:
		for _, e := range v {
			if !cleanValue(e) {
				return false
			}
		}
	case map[string]any:
		for k, e := range v {
			if !ds.CleanText(k) || !cleanValue(e) {
				return false
			}
		}
	}
	return true
}

// cleanLiteral checks a value written in the document.
func cleanLiteral(v *ast.Value) bool {
	if v == nil {
		return true
	}
	if (v.Kind == ast.StringValue || v.Kind == ast.BlockValue || v.Kind == ast.EnumValue) && !ds.CleanText(v.Raw) {
		return false
	}
	for _, c := range v.Children {
		if !ds.CleanText(c.Name) || !cleanLiteral(c.Value) {
			return false
		}
	}
	return true
}
