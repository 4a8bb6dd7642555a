// Command bench measures the gateway as a BFF sees it: it starts the five
// simulators in this process and the gateway (go build of the repository)
// in a process of its own, then drives each query with vegeta, cold (cache
// bypassed: ttl 1ns) and warm (default TTL), and replays the upstream
// requests one gateway request made against the simulators alone. It prints
// one table: req/s, p50, p99, upstream calls per request, and the gateway's
// rate over the upstream's (per gateway request).
//
//	go run ./cmd/bench -duration 5s -connections 20
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"gopkg.in/yaml.v3"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/demo"
	"github.com/federated-customers/gateway/datasource/registry"
)

func main() {
	dur := flag.Duration("duration", 5*time.Second, "how long each attack runs")
	conns := flag.Int("connections", 20, "concurrent connections (vegeta workers)")
	baseline := flag.String("baseline", "", "also build this git ref of the repository and measure it beside the working tree, query by query")
	only := flag.String("only", "", "run only the queries whose name contains this")
	loadMode := flag.Bool("load", false, "run issue 8's load test instead: normal traffic beside 4 costly queries, the simulators out of the gateway's process")
	gen := flag.String("generator", "vegeta", "load generator: vegeta (Go, in this process) or wrk (Debian's wrk, a process of its own, with a Lua script)")
	profile := flag.String("cpuprofile", "", "write the working tree's gateway CPU profile to <this>-this-<cold|warm>.pprof")
	critical := flag.Bool("critical", false, "time the spanning and the deep page one request at a time, every upstream call delayed by -latency, against their critical path")
	latency := flag.Duration("latency", 20*time.Millisecond, "with -critical: the delay of every simulator call")
	runs := flag.Int("runs", 5, "with -critical: fresh gateways per page and build (the median is printed)")
	flag.Parse()
	if *gen != "vegeta" && *gen != "wrk" {
		fmt.Fprintln(os.Stderr, "bench: -generator is vegeta or wrk")
		os.Exit(2)
	}
	if err := run(opts{dur: *dur, conns: *conns, baseline: *baseline, only: *only, profile: *profile, wrk: *gen == "wrk", load: *loadMode,
		critical: *critical, latency: *latency, runs: max(1, *runs)}); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type opts struct {
	dur            time.Duration
	conns          int
	baseline, only string
	profile        string
	wrk            bool
	load           bool
	critical       bool
	latency        time.Duration
	runs           int
}

type build struct{ name, bin string }

// gatewayBuild compiles the gateway from dir.
func gatewayBuild(dir, out string) error {
	b := exec.Command("go", "build", "-o", out, ".")
	b.Dir, b.Stdout, b.Stderr = dir, os.Stderr, os.Stderr
	if err := b.Run(); err != nil {
		return fmt.Errorf("go build in %s (run bench from the repository root): %w", dir, err)
	}
	return nil
}

func run(o opts) error {
	people := demo.People(demo.DefaultSize)
	sims, err := registry.ServeSimulators(people)
	if err != nil {
		return err
	}
	defer sims.Close()

	dir, err := os.MkdirTemp("", "gateway-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	builds := []build{{"this", filepath.Join(dir, "gateway")}}
	if err := gatewayBuild(".", builds[0].bin); err != nil {
		return err
	}
	if o.load {
		return runLoad(builds[0].bin, dir, o.only, sims)
	}
	if o.baseline != "" {
		// the baseline from a worktree of its own, built and measured beside this one
		wt := filepath.Join(dir, "baseline")
		add := exec.Command("git", "worktree", "add", "--detach", wt, o.baseline)
		add.Stdout, add.Stderr = os.Stderr, os.Stderr
		if err := add.Run(); err != nil {
			return fmt.Errorf("git worktree add %s: %w", o.baseline, err)
		}
		defer exec.Command("git", "worktree", "remove", "--force", wt).Run()
		b := build{o.baseline, filepath.Join(dir, "gateway-baseline")}
		if err := gatewayBuild(wt, b.bin); err != nil {
			return err
		}
		builds = append(builds, b)
	}
	if o.critical {
		return runCritical(o, builds, dir, sims)
	}

	var clIDs []string
	for _, p := range people {
		if id, ok := p.IDs[ds.CommerceLayer]; ok && len(clIDs) < 20 {
			clIDs = append(clIDs, ds.CustomerNodeID(ds.CommerceLayer, id))
		}
	}
	idsJSON, _ := json.Marshal(clIDs)
	queries := []struct{ name, query string }{
		{"(a) 50 Kintsugi customers", `{ customers(first: 50, filter: {providers: [KINTSUGI]}) { nodes { id name email } } }`},
		{"(b) 25 from each of 4 providers", `{ k: customers(first: 25, filter: {providers: [KINTSUGI]}) { nodes { id name email } } d: customers(first: 25, filter: {providers: [DIGITAL_RIVER]}) { nodes { id name email } } t: customers(first: 25, filter: {providers: [TELNESS]}) { nodes { id name email } } c: customers(first: 25, filter: {providers: [COMMERCE_LAYER]}) { nodes { id name email } } }`},
		{"(c) 20 Commerce Layer by id", `{ nodes(ids: ` + string(idsJSON) + `) { id ... on Customer { name email } } }`},
		{"customer(id)", `{ customer(id: "` + clIDs[0] + `") { id name email } }`},
		{"page with sources and links", `{ customers(first: 20) { nodes { id sources { sourceId customer { id } } linkedCustomers { id email } } } }`},
	}

	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "query\tcache\tbuild\treq/s\tp50\tp99\terrors\tupstream calls/req\tupstream alone req/s\tgateway / upstream\t")
	for _, temp := range []struct{ name, cache string }{{"cold", "cache: {ttl: 1ns}"}, {"warm", ""}} {
		addrs := make([]string, len(builds))
		var stops []func()
		for i, b := range builds {
			prof := ""
			if o.profile != "" && i == 0 { // older builds may not have -cpuprofile
				prof = fmt.Sprintf("%s-%s-%s.pprof", o.profile, strings.ReplaceAll(b.name, "/", "_"), temp.name)
			}
			addr, stop, err := startGateway(b.bin, filepath.Join(dir, fmt.Sprint(i)), temp.cache, prof, sims)
			if err != nil {
				return err
			}
			stops = append(stops, stop)
			defer stop() // on an error; stopping twice is harmless
			addrs[i] = addr
		}
		for _, q := range queries {
			if o.only != "" && !strings.Contains(q.name, o.only) {
				continue
			}
			body, _ := json.Marshal(map[string]string{"query": q.query})
			var replay []vegeta.Target
			for i, b := range builds {
				target := vegeta.Target{Method: "POST", URL: "http://" + addrs[i] + "/graphql", Body: body,
					Header: http.Header{"Content-Type": {"application/json"}}}
				if err := once(target); err != nil { // warm the cache, and record one request's upstream calls
					return fmt.Errorf("%s (%s): %w", q.name, b.name, err)
				}
				resetKits(sims)
				if err := once(target); err != nil {
					return err
				}
				if i == 0 {
					replay = upstreamTargets(sims)
				}
				resetKits(sims)
				m, err := load(o, target)
				if err != nil {
					return err
				}
				calls := float64(countCalls(sims)) / float64(max(1, m.Requests))
				resetKits(sims)
				alone, ratio := "-", "-"
				if temp.name == "cold" && len(replay) > 0 {
					u, err := load(o, replay...)
					if err != nil {
						return err
					}
					perRequest := u.Throughput / float64(len(replay)) // one gateway request makes len(replay) of them
					if perRequest > 0 {                               // wrk replays only what goes to one simulator
						alone = fmt.Sprintf("%.0f", perRequest)
						ratio = fmt.Sprintf("%.2f", m.Throughput/perRequest)
					}
					resetKits(sims)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%.0f\t%.2fms\t%.2fms\t%d\t%.2f\t%s\t%s\t\n", q.name, temp.name, b.name, m.Throughput,
					ms(m.P50), ms(m.P99), m.Errors, calls, alone, ratio)
			}
		}
		for _, stop := range stops {
			stop() // the profile, if any, is written as the gateway stops
		}
	}
	return tw.Flush()
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// pids are the running gateways' process ids by address (the load mode reads their memory).
var pids sync.Map

// startGateway runs the gateway binary against the simulators.
func startGateway(bin, dir, cache, profile string, sims registry.Simulators) (string, func(), error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	provs := map[string]any{}
	for _, p := range ds.AllProviders {
		block := sims[p].Block()
		// the load is the benchmark's, not a vendor's: quotas far above it
		block["upstream"] = map[string]any{"rate": 1e6, "burst": 100000, "budget": "20s", "timeout": "10s"}
		provs[p.Key()] = block
	}
	cfg := map[string]any{"listen": addr, "providers": provs,
		"limits": map[string]any{"max_in_flight": 4096, "max_queue": 4096, "max_upstream_calls": 100000}}
	if cache != "" {
		var c map[string]any
		_ = yaml.Unmarshal([]byte(cache), &c)
		for k, v := range c {
			cfg[k] = v
		}
	}
	b, _ := yaml.Marshal(cfg)
	path := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return "", nil, err
	}
	args := []string{"--config", path}
	if profile != "" {
		args = append(args, "--cpuprofile", profile)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	pids.Store(addr, cmd.Process.Pid)
	var once sync.Once
	stop := func() { once.Do(func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }) }
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr, stop, nil
			}
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("the gateway did not become ready at %s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func once(t vegeta.Target) error {
	req, err := t.Request()
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req.WithContext(context.Background()))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || strings.Contains(string(b), `"errors"`) {
		return fmt.Errorf("status %d: %.300s", resp.StatusCode, b)
	}
	return nil
}

// upstreamTargets are the requests the simulators received since the last
// reset, as targets to replay against them.
func upstreamTargets(sims registry.Simulators) []vegeta.Target {
	var out []vegeta.Target
	for _, s := range sims {
		for _, c := range s.Kit.Calls() {
			u := s.URL + c.Path
			if c.Query != "" {
				u += "?" + c.Query
			}
			out = append(out, vegeta.Target{Method: c.Method, URL: u, Header: c.Header})
		}
	}
	return out
}

func resetKits(sims registry.Simulators) {
	for _, k := range sims.Kits() {
		k.Reset()
	}
}

func countCalls(sims registry.Simulators) int {
	n := 0
	for _, k := range sims.Kits() {
		n += k.Count()
	}
	return n
}
