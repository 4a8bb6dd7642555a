package api

import (
	"embed"
	"net/http"
)

// The playground is GraphiQL with its assets embedded, so it works offline,
// behind strict egress rules and with no build step (see playground/LICENSES.txt).
//
//go:embed playground
var playgroundFS embed.FS

func playgroundHandler(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:") // security: no third-party script
	http.ServeFileFS(w, r, playgroundFS, "playground/index.html")
}

var playgroundAssets = http.FileServerFS(playgroundFS)
