package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	ds "github.com/federated-customers/gateway/datasource"
)

// shapeGen draws random query shapes from the schema: root fields under
// aliases, filters, backward walks, nested sources and links, named and
// inline fragments, single values GraphQL coerces to lists, and arguments
// given as variables. Seeded: the same shapes on every run.
type shapeGen struct {
	r    *rand.Rand
	ids  []string // customer ids: real, invented, Digital River ids with a comma
	vars map[string]any
	defs []string
	frag bool // the Customer fragment is used
}

func (g *shapeGen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

// arg is v written inline, or as a variable of type typ.
func (g *shapeGen) arg(typ string, v any) string {
	if g.r.IntN(2) == 0 {
		return literal(v)
	}
	name := fmt.Sprintf("v%d", len(g.defs))
	g.defs = append(g.defs, "$"+name+": "+typ)
	g.vars[name] = v
	return "$" + name
}

// literal writes v as GraphQL: enums are values of type enum.
type enum string

func literal(v any) string {
	switch v := v.(type) {
	case enum:
		return string(v)
	case string:
		return fmt.Sprintf("%q", v)
	case int:
		return fmt.Sprint(v)
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = literal(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		var parts []string
		for k, e := range v {
			parts = append(parts, k+": "+literal(e))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	panic(fmt.Sprintf("literal %T", v))
}

// jsonValue is v as a variable's JSON value (enums are strings there).
func jsonValue(v any) any {
	switch v := v.(type) {
	case enum:
		return string(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = jsonValue(e)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, e := range v {
			out[k] = jsonValue(e)
		}
		return out
	}
	return v
}

// someIDs is 1 to n ids, or one id alone (coerced to a list of one).
func (g *shapeGen) someIDs(n int) any {
	if g.r.IntN(4) == 0 {
		return g.ids[g.r.IntN(len(g.ids))]
	}
	k := 1 + g.r.IntN(n)
	out := make([]any, k)
	for i := range out {
		out[i] = g.ids[g.r.IntN(len(g.ids))]
	}
	return out
}

// customerFields is a Customer selection, nested up to depth more levels.
func (g *shapeGen) customerFields(depth int) string {
	fields := []string{"id", g.pick("email", "name", "providerId")}
	if g.frag && g.r.IntN(3) == 0 {
		fields = append(fields, "...C")
	}
	if depth > 0 {
		switch g.r.IntN(6) {
		case 0:
			fields = append(fields, "sources { sourceId customer { id } }")
		case 1:
			fields = append(fields, "linkedCustomers { "+g.customerFields(depth-1)+" }")
		case 2:
			fields = append(fields, "links { matchedBy customer { "+g.customerFields(depth-1)+" } }")
		case 3:
			fields = append(fields, "... on Customer { linkedCustomers { id } }")
		}
	}
	return strings.Join(fields, " ")
}

func (g *shapeGen) filter() map[string]any {
	f := map[string]any{}
	if g.r.IntN(2) == 0 {
		provs := []any{}
		for _, p := range ds.AllProviders {
			if p != ds.CareCloud && g.r.IntN(3) == 0 {
				provs = append(provs, enum(p.String()))
			}
		}
		switch {
		case len(provs) == 1 && g.r.IntN(2) == 0:
			f["providers"] = provs[0] // coerced to a list of one
		case len(provs) > 0:
			f["providers"] = provs
		}
	}
	switch g.r.IntN(6) {
	case 0:
		f["search"] = g.pick("zzzz-nobody", "an", "+", "example")
	case 1:
		f["email"] = g.pick("nobody@example.com", "anna@example.com")
	case 2:
		f["country"] = g.pick("SE", "US", "DE")
	case 3:
		f["ids"] = g.someIDs(5)
	}
	return f
}

func (g *shapeGen) root() string {
	switch g.r.IntN(6) {
	case 0:
		return "node(id: " + g.arg("ID!", g.ids[g.r.IntN(len(g.ids))]) + ") { id ... on Customer { " + g.customerFields(1) + " } }"
	case 1:
		return "customer(id: " + g.arg("ID!", g.ids[g.r.IntN(len(g.ids))]) + ") { " + g.customerFields(2) + " }"
	case 2:
		// one id alone, inline or as a [ID!]! variable, is coerced to a list
		return "nodes(ids: " + g.arg("[ID!]!", g.someIDs(30)) + ") { id ... on Customer { " + g.customerFields(1) + " } }"
	case 3:
		return "customerSources(" + g.page() + ") { totalCount nodes { sourceId customer { " + g.customerFields(1) + " } } }"
	}
	args := g.page()
	f := g.filter()
	if _, hasIDs := f["ids"]; !hasIDs || !strings.Contains(args, "last") {
		if len(f) > 0 {
			args += ", filter: " + g.arg("CustomerFilter", f)
		}
	}
	return "customers(" + args + ") { " + g.pick("totalCount", "pageInfo { hasNextPage endCursor }", "") + " nodes { " + g.customerFields(2) + " } }"
}

// page is first or last (backward), inline or a variable.
func (g *shapeGen) page() string {
	n := []int{1, 5, 20, 50, 100}[g.r.IntN(5)]
	if g.r.IntN(4) == 0 {
		return "last: " + g.arg("Int", n)
	}
	return "first: " + g.arg("Int", n)
}

// shape is one random operation and its variables.
func (g *shapeGen) shape() (string, map[string]any) {
	g.vars, g.defs, g.frag = map[string]any{}, nil, g.r.IntN(3) == 0
	var b strings.Builder
	roots := 1 + g.r.IntN(4)
	var body []string
	for i := 0; i < roots; i++ {
		body = append(body, fmt.Sprintf("a%d: %s", i, g.root()))
	}
	b.WriteString("query")
	if len(g.defs) > 0 {
		b.WriteString("(" + strings.Join(g.defs, ", ") + ")")
	}
	b.WriteString(" { " + strings.Join(body, " ") + " }")
	if g.frag && strings.Contains(b.String(), "...C") { // an unused fragment is invalid
		b.WriteString(" fragment C on Customer { provider email linkedCustomers { id } }")
	}
	vars := map[string]any{}
	for k, v := range g.vars {
		vars[k] = jsonValue(v)
	}
	return b.String(), vars
}

// generatedShapes is the generated part of
// TestTheCostEstimateIsNeverBelowTheCallsMade (issue 15): a few hundred
// random shapes, each against a cache that serves nothing (TTL 1 ns), so
// every read goes upstream.
func generatedShapes(t *testing.T) {
	m := startGateway(t, costConfig("cache: {ttl: 1ns}\n"))
	ids := demoIDs(40)
	ids = append(ids, invented(ds.Kintsugi, "inv", 5)...)
	ids = append(ids, invented(ds.DigitalRiver, "a,b", 5)...)
	ids = append(ids, invented(ds.Telness, "inv", 3)...)
	g := &shapeGen{r: rand.New(rand.NewPCG(15, 2026)), ids: ids}
	n := 240
	if testing.Short() {
		n = 60
	}
	ran := 0
	for i := 0; i < n; i++ {
		q, vars := g.shape()
		m.resetKits(t)
		r := m.queryExt(t, q, vars, map[string]any{"cost": true})
		calls := m.upstreamCalls(t)
		if len(r.Errors) > 0 && r.codes()[0] == "BAD_USER_INPUT" && strings.Contains(r.Errors[0].Message, "Variable") {
			t.Fatalf("shape %d is not a valid operation (a generator bug): %s %v\n%s", i, r.Errors[0].Message, vars, q)
		}
		if _, ok := r.Extensions["cost"]; !ok {
			t.Fatalf("shape %d was refused before its estimate (a generator bug): %+v\n%s", i, r.Errors, q)
		}
		total, per := costOf(t, r.Extensions)
		sum := 0
		for p, c := range calls {
			sum += c
			if c > per[p] {
				t.Errorf("shape %d: %s made %d calls, estimate %d\n%s\nvariables %v", i, p, c, per[p], q, vars)
			}
		}
		if sum > total {
			t.Errorf("shape %d: %d calls made, estimate %d\n%s\nvariables %v", i, sum, total, q, vars)
		}
		if len(r.Errors) == 0 {
			ran++
		}
	}
	t.Logf("%d shapes: %d answered without errors", n, ran)
	if ran < n/3 {
		t.Errorf("only %d of %d shapes ran cleanly: the generator tests too little", ran, n)
	}
}
