package link

import (
	"strings"

	ds "github.com/federated-customers/gateway/datasource"
)

// Group splits the indexed records into people: the connected groups of
// the links Find reports (references either way and through chains,
// CareCloud source records, personal emails naming at most one record per
// provider), read in bulk from the index instead of record by record.
// Each record of ids (CareCloud's customers aside: they are the source
// records' owners, not customer records) maps to its person's anchor: the
// group's first record in provider order, then vendor id, which names the
// person stably while that record is in it.
func Group(ids []ds.Identity) map[ds.CustomerKey]ds.CustomerKey {
	parent := map[ds.CustomerKey]ds.CustomerKey{}
	var find func(k ds.CustomerKey) ds.CustomerKey
	find = func(k ds.CustomerKey) ds.CustomerKey {
		p := parent[k]
		if p == k {
			return k
		}
		r := find(p)
		parent[k] = r
		return r
	}
	union := func(a, b ds.CustomerKey) {
		if _, ok := parent[a]; !ok {
			return
		}
		if _, ok := parent[b]; !ok {
			return // a reference to a record that does not exist links nothing
		}
		ra, rb := find(a), find(b)
		if ra == rb {
			return
		}
		if before(rb, ra) {
			ra, rb = rb, ra
		}
		parent[rb] = ra // the root is always the group's first record
	}
	byVendorID := map[string][]ds.CustomerKey{}
	byEmail := map[string][]ds.CustomerKey{}
	for _, id := range ids {
		if id.Provider == ds.CareCloud {
			continue
		}
		k := ds.CustomerKey{Provider: id.Provider, ProviderID: id.VendorID}
		parent[k] = k
		byVendorID[id.VendorID] = append(byVendorID[id.VendorID], k)
		if id.Email != "" {
			byEmail[id.Email] = append(byEmail[id.Email], k)
		}
	}
	for _, id := range ids {
		if id.Provider == ds.CareCloud {
			// One CareCloud customer's source records link every record they name.
			var named []ds.CustomerKey
			for _, r := range id.Refs {
				if p, ok := ds.ParseProvider(r.SourceID); ok && p != ds.CareCloud && len(r.ExternalIDs) == 1 {
					named = append(named, ds.CustomerKey{Provider: p, ProviderID: r.ExternalIDs[0]})
				}
			}
			for i := 1; i < len(named); i++ {
				union(named[0], named[i])
			}
			continue
		}
		self := ds.CustomerKey{Provider: id.Provider, ProviderID: id.VendorID}
		for _, r := range id.Refs {
			if r.Kind != ds.SourceSystem || len(r.ExternalIDs) != 1 {
				continue
			}
			x := r.ExternalIDs[0]
			if p, ok := ds.ParseProvider(r.SourceID); ok {
				if p != id.Provider {
					union(self, ds.CustomerKey{Provider: p, ProviderID: x})
				}
				continue
			}
			var elsewhere []ds.CustomerKey
			for _, k := range byVendorID[x] {
				if k.Provider != id.Provider {
					elsewhere = append(elsewhere, k)
				}
			}
			if len(elsewhere) == 1 { // an id two records share names neither
				union(self, elsewhere[0])
			}
		}
	}
	for email, ks := range byEmail {
		if !Personal(email) || len(ks) < 2 {
			continue
		}
		per := map[ds.ProviderID]int{}
		shared := false
		for _, k := range ks {
			per[k.Provider]++
			shared = shared || per[k.Provider] > 1
		}
		if shared {
			continue // a shared address names no one person
		}
		for _, k := range ks[1:] {
			union(ks[0], k)
		}
	}
	out := make(map[ds.CustomerKey]ds.CustomerKey, len(parent))
	for k := range parent {
		out[k] = find(k)
	}
	return out
}

func before(a, b ds.CustomerKey) bool {
	if a.Provider != b.Provider {
		return a.Provider < b.Provider
	}
	return strings.Compare(a.ProviderID, b.ProviderID) < 0
}
