package rest

import "sync"

// retryBudget lets retries be at most ratio of calls: each call deposits
// ratio of a token, each retry spends one. A small initial balance lets a
// quiet provider's first failures be retried.
type retryBudget struct {
	mu      sync.Mutex
	ratio   float64
	balance float64
}

const (
	retryBudgetStart = 3
	retryBudgetMax   = 20
)

func newRetryBudget(ratio float64) *retryBudget {
	return &retryBudget{ratio: ratio, balance: retryBudgetStart}
}

func (b *retryBudget) deposit() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.balance = min(retryBudgetMax, b.balance+b.ratio)
}

func (b *retryBudget) spend() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.balance < 1 {
		return false
	}
	b.balance--
	return true
}
