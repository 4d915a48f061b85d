package embedded

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"policybot/handlers"
)

// A queue Q uses four buckets:
//
//	q:Q:items  key → itemState (waiting or in flight)
//	q:Q:due    8-byte due time (unix ms, big-endian) + key → nil; an item in
//	           flight is due again when its lease ends, so a dead worker's
//	           item comes back by itself
//	q:Q:done   key → 8-byte expiry; q:Q:doneexp expiry+key → nil (purging)
//	q:Q:dead   key → DeadLetter (JSON)

type itemState struct {
	Key         string `json:"k"`
	Payload     []byte `json:"p,omitempty"`
	MaxAttempts int    `json:"m"`
	Attempts    int    `json:"a"`
	Token       string `json:"t,omitempty"`
	LastError   string `json:"e,omitempty"`
	Due         int64  `json:"d"` // unix ms
	Created     int64  `json:"c"`
}

type qbuckets struct{ items, due, done, doneExp, dead *bolt.Bucket }

func (s *Store) qb(tx *bolt.Tx, q string, create bool) (qbuckets, error) {
	var b qbuckets
	names := []string{"items", "due", "done", "doneexp", "dead"}
	ptrs := []**bolt.Bucket{&b.items, &b.due, &b.done, &b.doneExp, &b.dead}
	for i, n := range names {
		name := []byte("q:" + q + ":" + n)
		if create {
			bk, err := tx.CreateBucketIfNotExists(name)
			if err != nil {
				return b, err
			}
			*ptrs[i] = bk
		} else if *ptrs[i] = tx.Bucket(name); *ptrs[i] == nil {
			return b, errNoQueue
		}
	}
	return b, nil
}

var errNoQueue = errors.New("no such queue")

func dueKey(ms int64, key string) []byte {
	b := make([]byte, 8+len(key))
	binary.BigEndian.PutUint64(b, uint64(ms))
	copy(b[8:], key)
	return b
}

func ms8(v int64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(v))
	return b[:]
}

func getState(b qbuckets, key string) (*itemState, error) {
	v := b.items.Get([]byte(key))
	if v == nil {
		return nil, nil
	}
	var st itemState
	if err := json.Unmarshal(v, &st); err != nil {
		return nil, fmt.Errorf("queue item %q is unreadable: %w", key, err)
	}
	return &st, nil
}

func putState(b qbuckets, st *itemState) error {
	v, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return b.items.Put([]byte(st.Key), v)
}

// Enqueue implements handlers.Queue.
func (s *Store) Enqueue(_ context.Context, queue string, it handlers.QueueItem) (bool, error) {
	if err := checkName("queue", queue); err != nil {
		return false, err
	}
	if err := checkName("key", it.Key); err != nil {
		return false, err
	}
	now := s.now()
	due, max := it.Schedule(now)
	var added bool
	err := s.update(func(tx *bolt.Tx) error {
		added = false
		b, err := s.qb(tx, queue, true)
		if err != nil {
			return err
		}
		purgeDone(b, now.UnixMilli(), 64)
		if b.items.Get([]byte(it.Key)) != nil || b.dead.Get([]byte(it.Key)) != nil {
			return nil
		}
		if exp := b.done.Get([]byte(it.Key)); len(exp) == 8 && int64(binary.BigEndian.Uint64(exp)) > now.UnixMilli() {
			return nil
		}
		st := &itemState{Key: it.Key, Payload: it.Payload, MaxAttempts: max, Due: due.UnixMilli(), Created: now.UnixMilli()}
		if err := putState(b, st); err != nil {
			return err
		}
		added = true
		return b.due.Put(dueKey(st.Due, st.Key), nil)
	})
	return added, err
}

// purgeDone forgets up to n done keys whose retention has passed.
func purgeDone(b qbuckets, now int64, n int) {
	c := b.doneExp.Cursor()
	var stale [][]byte
	for k, _ := c.First(); k != nil && len(stale) < n; k, _ = c.Next() {
		if int64(binary.BigEndian.Uint64(k[:8])) > now {
			break
		}
		stale = append(stale, append([]byte(nil), k...))
	}
	for _, k := range stale {
		b.doneExp.Delete(k)
		if exp := b.done.Get(k[8:]); len(exp) == 8 && int64(binary.BigEndian.Uint64(exp)) <= now {
			b.done.Delete(k[8:])
		}
	}
}

// Claim implements handlers.Queue.
func (s *Store) Claim(_ context.Context, queue string, lease time.Duration) (*handlers.Claimed, error) {
	now := s.now().UnixMilli()
	var out *handlers.Claimed
	err := s.update(func(tx *bolt.Tx) error {
		out = nil
		b, err := s.qb(tx, queue, false)
		if errors.Is(err, errNoQueue) {
			return nil
		}
		if err != nil {
			return err
		}
		for {
			k, _ := b.due.Cursor().First()
			if k == nil || int64(binary.BigEndian.Uint64(k[:8])) > now {
				return nil
			}
			key := string(k[8:])
			st, err := getState(b, key)
			if err != nil {
				return err
			}
			if err := b.due.Delete(k); err != nil {
				return err
			}
			if st == nil {
				continue // a stray due entry
			}
			if st.Attempts >= st.MaxAttempts {
				// every attempt so far ended with the worker gone
				if err := s.bury(b, st, fmt.Sprintf("lease expired %d times: the worker died or hung on every attempt", st.Attempts)); err != nil {
					return err
				}
				continue
			}
			st.Attempts++
			st.Token = newToken()
			st.Due = now + lease.Milliseconds()
			if err := putState(b, st); err != nil {
				return err
			}
			if err := b.due.Put(dueKey(st.Due, key), nil); err != nil {
				return err
			}
			out = &handlers.Claimed{
				QueueItem: handlers.QueueItem{Key: key, Payload: st.Payload, MaxAttempts: st.MaxAttempts},
				Attempt:   st.Attempts, Token: st.Token, LastError: st.LastError,
			}
			return nil
		}
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		return nil, handlers.ErrQueueEmpty
	}
	return out, nil
}

// bury moves an item to the dead letters.
func (s *Store) bury(b qbuckets, st *itemState, reason string) error {
	dl := handlers.DeadLetter{
		QueueItem: handlers.QueueItem{Key: st.Key, Payload: st.Payload, MaxAttempts: st.MaxAttempts},
		Attempts:  st.Attempts, Reason: reason, At: s.now(),
	}
	v, err := json.Marshal(dl)
	if err != nil {
		return err
	}
	b.due.Delete(dueKey(st.Due, st.Key))
	if err := b.items.Delete([]byte(st.Key)); err != nil {
		return err
	}
	return b.dead.Put([]byte(st.Key), v)
}

// current loads the item held under token, or reports ErrLeaseLost.
func current(b qbuckets, key, token string) (*itemState, error) {
	st, err := getState(b, key)
	if err != nil {
		return nil, err
	}
	if st == nil || st.Token == "" || st.Token != token {
		return nil, handlers.ErrLeaseLost
	}
	return st, nil
}

// withClaim runs fn on the item key of queue held under token, in one
// write transaction; it returns ErrLeaseLost (wrapped with op) when the
// claim is not the current one.
func (s *Store) withClaim(op, queue, key, token string, fn func(b qbuckets, st *itemState) error) error {
	var outcome error
	err := s.update(func(tx *bolt.Tx) error {
		outcome = nil
		b, err := s.qb(tx, queue, false)
		if errors.Is(err, errNoQueue) {
			outcome = handlers.ErrLeaseLost
			return nil
		}
		if err != nil {
			return err
		}
		st, err := current(b, key, token)
		if errors.Is(err, handlers.ErrLeaseLost) {
			outcome = err
			return nil
		}
		if err != nil {
			return err
		}
		return fn(b, st)
	})
	if err != nil {
		return err
	}
	if outcome != nil {
		return fmt.Errorf("%s %s/%s: %w", op, queue, key, outcome)
	}
	return nil
}

// Ack implements handlers.Queue.
func (s *Store) Ack(_ context.Context, queue, key, token string) error {
	now := s.now()
	return s.withClaim("ack", queue, key, token, func(b qbuckets, st *itemState) error {
		b.due.Delete(dueKey(st.Due, key))
		if err := b.items.Delete([]byte(key)); err != nil {
			return err
		}
		exp := now.Add(s.doneTTL).UnixMilli()
		if err := b.done.Put([]byte(key), ms8(exp)); err != nil {
			return err
		}
		return b.doneExp.Put(dueKey(exp, key), nil)
	})
}

// Retry implements handlers.Queue.
func (s *Store) Retry(_ context.Context, queue, key, token string, notBefore time.Time, reason string) (bool, error) {
	var dead bool
	err := s.withClaim("retry", queue, key, token, func(b qbuckets, st *itemState) error {
		dead = false
		if st.Attempts >= st.MaxAttempts {
			dead = true
			return s.bury(b, st, reason)
		}
		b.due.Delete(dueKey(st.Due, key))
		st.Token, st.LastError = "", reason
		st.Due = max(notBefore.UnixMilli(), s.now().UnixMilli())
		if err := putState(b, st); err != nil {
			return err
		}
		return b.due.Put(dueKey(st.Due, key), nil)
	})
	if err != nil {
		return false, err
	}
	return dead, nil
}

// Bury implements handlers.Queue.
func (s *Store) Bury(_ context.Context, queue, key, token, reason string) error {
	return s.withClaim("bury", queue, key, token, func(b qbuckets, st *itemState) error {
		return s.bury(b, st, reason)
	})
}

// DeadLetters implements handlers.Queue.
func (s *Store) DeadLetters(_ context.Context, queue string, limit int) ([]handlers.DeadLetter, error) {
	out := []handlers.DeadLetter{}
	err := s.view(func(tx *bolt.Tx) error {
		b, err := s.qb(tx, queue, false)
		if errors.Is(err, errNoQueue) {
			return nil
		}
		if err != nil {
			return err
		}
		return b.dead.ForEach(func(k, v []byte) error {
			var dl handlers.DeadLetter
			if err := json.Unmarshal(v, &dl); err != nil {
				return fmt.Errorf("dead letter %q is unreadable: %w", k, err)
			}
			out = append(out, dl)
			return nil
		})
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, err
}

// Revive implements handlers.Queue.
func (s *Store) Revive(_ context.Context, queue, key string) error {
	now := s.now().UnixMilli()
	found := false
	err := s.update(func(tx *bolt.Tx) error {
		found = false
		b, err := s.qb(tx, queue, false)
		if errors.Is(err, errNoQueue) {
			return nil
		}
		if err != nil {
			return err
		}
		v := b.dead.Get([]byte(key))
		if v == nil {
			return nil
		}
		var dl handlers.DeadLetter
		if err := json.Unmarshal(v, &dl); err != nil {
			return fmt.Errorf("dead letter %q is unreadable: %w", key, err)
		}
		found = true
		st := &itemState{Key: key, Payload: dl.Payload, MaxAttempts: dl.MaxAttempts, Due: now, Created: now}
		if st.MaxAttempts <= 0 {
			st.MaxAttempts = handlers.DefaultMaxAttempts
		}
		if err := b.dead.Delete([]byte(key)); err != nil {
			return err
		}
		if err := putState(b, st); err != nil {
			return err
		}
		return b.due.Put(dueKey(now, key), nil)
	})
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("dead letter %s/%s: %w", queue, key, handlers.ErrNotFound)
	}
	return nil
}
