package main

// The load generators: vegeta in this process, or wrk as a process of its own.

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// result is one attack's figures, whichever generator made them.
type result struct {
	Throughput float64
	P50, P99   time.Duration
	Requests   uint64
	Errors     uint64
}

func load(o opts, targets ...vegeta.Target) (result, error) {
	if o.wrk {
		return wrk(o.dur, o.conns, targets...)
	}
	m := attack(o.dur, o.conns, targets...)
	return result{Throughput: m.Throughput, P50: m.Latencies.P50, P99: m.Latencies.P99, Requests: m.Requests,
		Errors: m.Requests - uint64(float64(m.Requests)*m.Success+0.5)}, nil
}

// wrk drives targets with wrk, cycling through them in a Lua script. wrk
// talks to one host, so a replay that spans several simulators is left out
// (a zero result).
func wrk(dur time.Duration, conns int, targets ...vegeta.Target) (result, error) {
	u, err := url.Parse(targets[0].URL)
	if err != nil {
		return result{}, err
	}
	var lua strings.Builder
	lua.WriteString("local reqs = {}\n")
	for i, t := range targets {
		tu, err := url.Parse(t.URL)
		if err != nil {
			return result{}, err
		}
		if tu.Host != u.Host {
			return result{}, nil
		}
		fmt.Fprintf(&lua, "reqs[%d] = wrk.format(%q, %q, {[\"Host\"] = %q, ", i+1, t.Method, tu.RequestURI(), tu.Host)
		for k, vs := range t.Header {
			if len(vs) > 0 && k != "Content-Length" && k != "Accept-Encoding" && k != "User-Agent" {
				fmt.Fprintf(&lua, "[%q] = %q, ", k, vs[0])
			}
		}
		fmt.Fprintf(&lua, "}, %q)\n", string(t.Body))
	}
	lua.WriteString("local i = 0\nrequest = function() i = i % #reqs + 1; return reqs[i] end\n")
	f, err := os.CreateTemp("", "bench-*.lua")
	if err != nil {
		return result{}, err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(lua.String()); err != nil {
		return result{}, err
	}
	_ = f.Close()
	cmd := exec.Command("wrk", "-t2", fmt.Sprintf("-c%d", conns), fmt.Sprintf("-d%ds", max(1, int(dur.Seconds()))),
		"--latency", "-s", f.Name(), u.Scheme+"://"+u.Host+"/")
	out, err := cmd.Output()
	if err != nil {
		return result{}, fmt.Errorf("wrk (apt-get install wrk): %w", err)
	}
	return parseWrk(string(out))
}

// parseWrk reads wrk's summary: Requests/sec, the 50% and 99% latencies,
// the request count and non-2xx responses.
func parseWrk(out string) (result, error) {
	var r result
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "Requests/sec:":
			r.Throughput, _ = strconv.ParseFloat(f[1], 64)
		case len(f) == 2 && f[0] == "50%":
			r.P50, _ = time.ParseDuration(f[1])
		case len(f) == 2 && f[0] == "99%":
			r.P99, _ = time.ParseDuration(f[1])
		case len(f) > 2 && f[1] == "requests" && f[2] == "in":
			r.Requests, _ = strconv.ParseUint(f[0], 10, 64)
		case len(f) == 5 && f[0] == "Non-2xx":
			r.Errors, _ = strconv.ParseUint(f[4], 10, 64)
		}
	}
	if r.Throughput == 0 {
		return r, fmt.Errorf("no Requests/sec in wrk's output: %.300s", out)
	}
	return r, nil
}

func attack(dur time.Duration, conns int, targets ...vegeta.Target) vegeta.Metrics {
	a := vegeta.NewAttacker(vegeta.Workers(uint64(conns)), vegeta.MaxWorkers(uint64(conns)), vegeta.Connections(conns), vegeta.KeepAlive(true))
	var m vegeta.Metrics
	for res := range a.Attack(vegeta.NewStaticTargeter(targets...), vegeta.Rate{Freq: 0}, dur, "bench") {
		m.Add(res)
	}
	m.Close()
	return m
}
