package cache

import (
	"errors"
	"strings"

	ds "github.com/federated-customers/gateway/datasource"
)

// DataError reports whether err is a database's refusal of a statement's
// data (SQLSTATE class 22, data exception: a NUL byte, invalid UTF-8, a
// value out of range), as opposed to the database failing. The drivers'
// errors say so through SQLState (lib/pq's *pq.Error among them).
func DataError(err error) bool {
	var s interface{ SQLState() string }
	return errors.As(err, &s) && len(s.SQLState()) == 5 && s.SQLState()[:2] == "22"
}

// storable reports whether s can be a text value of the second level:
// Postgres text holds valid UTF-8 without NUL bytes, and refuses the whole
// statement otherwise.
func storable(s string) bool { return ds.CleanText(s) }

// storableEntries are the entries the second level can store (bodies are
// bytes, any bytes; keys and record ids are text), and the record ids of
// those it cannot.
func storableEntries(entries []Entry) (keep []Entry, skipped []string) {
	for _, e := range entries {
		if storable(e.Key) && storable(e.RecordID) && storable(e.Credential) {
			keep = append(keep, e)
		} else {
			skipped = append(skipped, e.RecordID)
		}
	}
	return keep, skipped
}

// storableIdentities are ids as the second level can store them: a record
// whose own id cannot be stored is left out (its key would not be its
// id), and an email or external id that cannot is dropped from its record,
// which keeps its other links. One vendor record's bad bytes then never
// fail the index write of the rest of its page.
func storableIdentities(ids []ds.Identity) (keep []ds.Identity, skipped []string) {
	for _, id := range ids {
		if !storable(id.VendorID) || !storable(id.Credential) {
			skipped = append(skipped, id.VendorID)
			continue
		}
		if !storable(id.Email) {
			id.Email = ""
			skipped = append(skipped, id.VendorID+" (email)")
		}
		if !refsStorable(id.Refs) {
			var refs []ds.Ref
			for _, r := range id.Refs {
				if !storable(r.SourceID) {
					continue
				}
				c := r
				c.SourceName = strings.ToValidUTF8(strings.ReplaceAll(r.SourceName, "\x00", ""), "\uFFFD")
				c.ExternalIDs = nil
				for _, x := range r.ExternalIDs {
					if storable(x) {
						c.ExternalIDs = append(c.ExternalIDs, x)
					}
				}
				refs = append(refs, c)
			}
			id.Refs = refs
			skipped = append(skipped, id.VendorID+" (references)")
		}
		keep = append(keep, id)
	}
	return keep, skipped
}

// storableCustomers are the records the synced store can key (their
// vendor id is storable text); the others are left out of it and stay
// in the first level (put already said which).
func storableCustomers(cs []*ds.Customer) []*ds.Customer {
	keep := make([]*ds.Customer, 0, len(cs))
	for _, c := range cs {
		if storable(c.ProviderID) {
			keep = append(keep, c)
		}
	}
	return keep
}

func refsStorable(refs []ds.Ref) bool {
	for _, r := range refs {
		if !storable(r.SourceID) || !storable(r.SourceName) {
			return false
		}
		for _, x := range r.ExternalIDs {
			if !storable(x) {
				return false
			}
		}
	}
	return true
}
