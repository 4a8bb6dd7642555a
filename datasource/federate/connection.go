// Edges of a page, with a cursorMint that signs their cursors only when asked for.

package federate

import (
	ds "github.com/federated-customers/gateway/datasource"
)

// cursorMint signs the cursors of one page: the codec, the connection kind
// and the filter fingerprint they share.
type cursorMint struct {
	codec    CursorCodec
	kind, fp string
}

// Mint signs pos into a cursor of this page.
func (m *cursorMint) Mint(pos ds.Position) string { return m.codec.Encode(m.kind, m.fp, pos) }

// customerEdges makes a page's edges in one allocation.
func customerEdges(walked []Edge[*ds.Customer], mint *cursorMint) []*ds.CustomerEdge {
	return edgesOf(walked, func(e Edge[*ds.Customer]) ds.CustomerEdge {
		return ds.CustomerEdge{Node: e.Node, After: e.After, Mint: mint}
	})
}

// sourceEdges makes a page's source edges in one allocation.
func sourceEdges(walked []Edge[*ds.CustomerSource], mint *cursorMint) []*ds.CustomerSourceEdge {
	return edgesOf(walked, func(e Edge[*ds.CustomerSource]) ds.CustomerSourceEdge {
		return ds.CustomerSourceEdge{Node: e.Node, After: e.After, Mint: mint}
	})
}

func edgesOf[N, E any](walked []Edge[N], edge func(Edge[N]) E) []*E {
	backing := make([]E, len(walked))
	out := make([]*E, len(walked))
	for i, e := range walked {
		backing[i] = edge(e)
		out[i] = &backing[i]
	}
	return out
}
