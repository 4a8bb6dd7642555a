package main

import (
	"os"
	"testing"

	"github.com/federated-customers/gateway/internal/testnote"
)

// TestMain names the areas the tests skipped (see internal/testnote).
func TestMain(m *testing.M) { os.Exit(testnote.Main(m)) }
