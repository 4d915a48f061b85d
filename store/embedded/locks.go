package embedded

import (
	"context"
	"encoding/json"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Leases live in bucket "locks": name → {owner, expiry}. With one process
// per data directory they mostly guard against a job overlapping itself.

type lease struct {
	Owner string `json:"o"`
	Exp   int64  `json:"e"` // unix ms
}

func (s *Store) leaseOp(name string, fn func(cur *lease, now int64) (next *lease, ok bool)) (bool, error) {
	now := s.now().UnixMilli()
	var ok bool
	err := s.update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("locks"))
		if err != nil {
			return err
		}
		var cur *lease
		if v := b.Get([]byte(name)); v != nil {
			cur = &lease{}
			if err := json.Unmarshal(v, cur); err != nil {
				return err
			}
			if cur.Exp <= now {
				cur = nil // expired: as good as free
			}
		}
		var next *lease
		next, ok = fn(cur, now)
		if !ok {
			return nil
		}
		if next == nil {
			return b.Delete([]byte(name))
		}
		v, err := json.Marshal(next)
		if err != nil {
			return err
		}
		return b.Put([]byte(name), v)
	})
	return ok, err
}

// AcquireLease implements handlers.Locks.
func (s *Store) AcquireLease(_ context.Context, name, owner string, ttl time.Duration) (bool, error) {
	return s.leaseOp(name, func(cur *lease, now int64) (*lease, bool) {
		if cur != nil && cur.Owner != owner {
			return nil, false
		}
		return &lease{Owner: owner, Exp: now + ttl.Milliseconds()}, true
	})
}

// RenewLease implements handlers.Locks.
func (s *Store) RenewLease(_ context.Context, name, owner string, ttl time.Duration) (bool, error) {
	return s.leaseOp(name, func(cur *lease, now int64) (*lease, bool) {
		if cur == nil || cur.Owner != owner {
			return nil, false
		}
		return &lease{Owner: owner, Exp: now + ttl.Milliseconds()}, true
	})
}

// ReleaseLease implements handlers.Locks.
func (s *Store) ReleaseLease(_ context.Context, name, owner string) (bool, error) {
	return s.leaseOp(name, func(cur *lease, now int64) (*lease, bool) {
		if cur == nil || cur.Owner != owner {
			return nil, false
		}
		return nil, true
	})
}
