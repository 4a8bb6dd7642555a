package main

import (
	"flag"
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/federated-customers/gateway/internal/testnote"
)

// TestMain names the areas the tests skipped (see internal/testnote) and,
// unless -parallel is given, runs the parallel tests four at a time at
// least: each owns a gateway and mostly waits on loopback simulators, so
// go test's default (GOMAXPROCS, 2 on a small machine) leaves it idle.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		_ = flag.Set("test.parallel", strconv.Itoa(max(4, runtime.GOMAXPROCS(0))))
	}
	os.Exit(testnote.Main(m))
}
