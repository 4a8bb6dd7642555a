package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/federate"
)

// The test fixtures of this package: one way to build a gateway, requests
// and their answers, and a provider the tests hold in flight.

// testHandler is the handler over svc's customer providers (none when
// nil), logging nowhere: the one way these tests build a gateway.
func testHandler(svc *federate.Service, o Options) *Handler {
	if svc == nil {
		svc = &federate.Service{Customers: map[ds.ProviderID]ds.CustomerProvider{}}
	}
	svc.Cursors = federate.CursorCodec{Key: []byte("k")}
	o.Service, o.Log = svc, slog.New(slog.DiscardHandler)
	return New(o)
}

// testGateway serves testHandler for the length of the test.
func testGateway(t *testing.T, svc *federate.Service, o Options) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(testHandler(svc, o))
	t.Cleanup(srv.Close)
	return srv
}

func emptyGateway(t *testing.T, keys ...APIKey) *httptest.Server {
	return testGateway(t, nil, Options{Keys: keys})
}

func post(t *testing.T, url, query string, header map[string]string) (int, map[string]any) {
	t.Helper()
	resp, out := postResp(t, url, query, header)
	return resp.StatusCode, out
}

// postResp is post with the response's status and headers.
func postResp(t *testing.T, url, query string, header map[string]string) (*http.Response, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"query": query})
	req, _ := http.NewRequest("POST", url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return do(t, req)
}

// do sends req and decodes its JSON body.
func do(t *testing.T, req *http.Request) (*http.Response, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("status %d: body is not JSON: %v", resp.StatusCode, err)
	}
	return resp, out
}

func firstCode(out map[string]any) string {
	errs, _ := out["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	ext, _ := errs[0].(map[string]any)["extensions"].(map[string]any)
	c, _ := ext["code"].(string)
	return c
}

// gatedProvider is a customer provider whose list calls wait for the gate:
// requests that reach it stay in flight until the test opens it.
type gatedProvider struct {
	ds.CustomerProvider // the methods a list query does not use
	gate                chan struct{}
	entered             chan struct{}
	items               int
}

func (g *gatedProvider) ID() ds.ProviderID { return ds.Kintsugi }
func (g *gatedProvider) Capabilities() ds.Capabilities {
	all := map[ds.OrderField]string{ds.OrderCreatedAt: "", ds.OrderUpdatedAt: "", ds.OrderEmail: "", ds.OrderName: ""}
	return ds.Capabilities{Provider: ds.Kintsugi, PageLimit: 100, LookupBatch: 1, LoaderCap: 100, Sort: all}
}
func (g *gatedProvider) GetCustomers(context.Context, []string) ([]*ds.Customer, error) {
	return nil, nil
}
func (g *gatedProvider) ListCustomers(ctx context.Context, req ds.ListRequest[ds.Filter]) (ds.Page[*ds.Customer], error) {
	if g.entered != nil {
		g.entered <- struct{}{}
	}
	if g.gate != nil {
		select {
		case <-g.gate:
		case <-ctx.Done():
			return ds.Page[*ds.Customer]{}, ctx.Err()
		}
	}
	var page ds.Page[*ds.Customer]
	name := strings.Repeat("n", 1000)
	for i := range min(req.Limit, g.items) {
		page.Items = append(page.Items, &ds.Customer{Provider: ds.Kintsugi, ProviderID: fmt.Sprint(i),
			Name: &name, Raw: []byte("{}")})
	}
	return page, nil
}

func gatedGateway(t *testing.T, p *gatedProvider, l Limits) *httptest.Server {
	return testGateway(t, &federate.Service{Customers: map[ds.ProviderID]ds.CustomerProvider{ds.Kintsugi: p}}, Options{Limits: l})
}
