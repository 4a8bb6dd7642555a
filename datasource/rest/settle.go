package rest

import ds "github.com/federated-customers/gateway/datasource"

// A write whose answer was lost after the retries (ds.AnswerLost) is settled
// by reading the record back; these are the verdicts the vendors share.

// ReadBackUpdate settles an update whose answer was lost (err) by what a
// lookup of the record found (got, or the lookup's rerr): the one record,
// when it shows the input, is the answer; anything else leaves the update
// UNCERTAIN.
func ReadBackUpdate(err error, in ds.CustomerInput, got []*ds.Customer, rerr error) (*ds.Customer, error) {
	if rerr == nil && len(got) == 1 && got[0] != nil && ds.InputApplied(in, got[0]) {
		return got[0], nil
	}
	return nil, ds.WithOutcome(err, ds.OutcomeUncertain)
}

// ReadBackDelete settles a delete (or a detach) whose answer was lost (err)
// by a read after it: the record gone says it happened; a failed read
// leaves it UNCERTAIN; the record still there says it did not.
func ReadBackDelete(err error, gone bool, rerr error) error {
	switch {
	case gone:
		return nil
	case rerr != nil:
		return ds.WithOutcome(err, ds.OutcomeUncertain)
	}
	return ds.WithOutcome(err, ds.AbsentOutcome(err))
}
