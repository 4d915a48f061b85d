// Package embedded is the default store: one data directory, nothing to
// install, safe against kill -9 at any moment. Durable data (records,
// counters, rankings, the queue, locks) lives in a bbolt file that is
// fsynced on every commit; short-lived keys (dedup marks, sessions) live in
// memory backed by a group-committed journal (journal.go).
//
// bbolt was chosen over a pure-Go SQLite: it is a small, well-kept
// key/value engine (etcd's), copy-on-write B+tree with a single writer, so
// a crash at any point leaves the last committed state; it needs no SQL
// layer for what policybot stores, and one process owns the file (a second
// process gets a clear "in use" error instead of contention).
package embedded

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"policybot/handlers"
)

// Options configure Open.
type Options struct {
	// Now is the clock (tests inject one); nil means time.Now.
	Now func() time.Time
	// DoneRetention is how long a finished queue key is remembered so that
	// enqueueing it again is a no-op; 0 means 7 days.
	DoneRetention time.Duration
	// LockTimeout is how long Open waits for another process to release
	// the data directory; 0 means 2 s.
	LockTimeout time.Duration
}

// Store is the embedded handlers.Store.
type Store struct {
	db      *bolt.DB
	j       *journal
	now     func() time.Time
	doneTTL time.Duration
}

var _ handlers.Store = (*Store)(nil)

// File names inside the data directory.
const (
	DBFile      = "policybot.db"
	JournalFile = "ephemeral.journal"
)

// Open opens (creating if needed) the store in dir. A damaged or
// unreadable file is an error that names it: the store never starts fresh
// over data it could not read.
func Open(dir string, opts Options) (s *Store, err error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.DoneRetention == 0 {
		opts.DoneRetention = 7 * 24 * time.Hour
	}
	if opts.LockTimeout == 0 {
		opts.LockTimeout = 2 * time.Second
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("embedded store: create data directory: %w", err)
	}
	path := filepath.Join(dir, DBFile)
	defer func() {
		// bbolt panics on some kinds of damage instead of returning an error
		if r := recover(); r != nil {
			err = fmt.Errorf("embedded store: %s is damaged (%v); restore it from a backup or move it aside", path, r)
		}
	}()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.LockTimeout})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("embedded store: %s is in use by another process, most likely a running `policybot serve` (only one process may use a data directory). "+
			"Stop it and run this again, or do it in the console while it runs (/admin/setup for the first admin, 名单与绑定 for imports and binding codes, 通知, 知识库); "+
			"with several processes, use the Redis store", path)
	}
	if err != nil {
		return nil, fmt.Errorf("embedded store: %s cannot be opened (%w); restore it from a backup or move it aside", path, err)
	}
	db.MaxBatchDelay = 500 * time.Microsecond
	// check every page now rather than fail on first use
	if err := db.View(func(tx *bolt.Tx) error {
		var first error
		for e := range tx.Check() { // drain: the checker runs until it closes the channel
			if first == nil {
				first = e
			}
		}
		return first
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("embedded store: %s is damaged (%w); restore it from a backup or move it aside", path, err)
	}
	j, err := openJournal(filepath.Join(dir, JournalFile), opts.Now)
	if err != nil {
		db.Close()
		return nil, err
	}
	// make the files' directory entries durable too (first start)
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return &Store{db: db, j: j, now: opts.Now, doneTTL: opts.DoneRetention}, nil
}

// Close flushes and closes both files.
func (s *Store) Close() error {
	return errors.Join(s.j.close(), s.db.Close())
}

// Ping reports whether the store is open.
func (s *Store) Ping(ctx context.Context) error {
	return s.db.View(func(*bolt.Tx) error { return nil })
}

// update runs fn in a write transaction that is batched with concurrent
// ones (one commit and fsync for the group). fn may run more than once and
// must only touch the transaction; domain outcomes are returned through
// captured variables, not fn's error.
func (s *Store) update(fn func(tx *bolt.Tx) error) error {
	if err := s.db.Batch(fn); err != nil {
		return fmt.Errorf("embedded store: %w", err)
	}
	return nil
}

func (s *Store) view(fn func(tx *bolt.Tx) error) error {
	if err := s.db.View(fn); err != nil {
		return fmt.Errorf("embedded store: %w", err)
	}
	return nil
}

// checkName rejects the NUL byte, which the index keys use as separator.
func checkName(what string, vals ...string) error {
	for _, v := range vals {
		if strings.IndexByte(v, 0) >= 0 {
			return fmt.Errorf("embedded store: %s %q contains a NUL byte", what, v)
		}
		if v == "" && what != "value" {
			return fmt.Errorf("embedded store: empty %s", what)
		}
	}
	return nil
}

func newToken() string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b[:])
}

// MarkSeen implements handlers.Dedup.
func (s *Store) MarkSeen(_ context.Context, key string, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, errors.New("embedded store: MarkSeen needs a ttl > 0")
	}
	return s.j.putIfAbsent("d\x00"+key, nil, ttl)
}

// GetSession implements handlers.Sessions.
func (s *Store) GetSession(_ context.Context, key string) ([]byte, error) {
	v, ok, err := s.j.get("s\x00" + key)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("session %q: %w", key, handlers.ErrNotFound)
	}
	return v, nil
}

// PutSession implements handlers.Sessions.
func (s *Store) PutSession(_ context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return errors.New("embedded store: PutSession needs a ttl > 0")
	}
	return s.j.put("s\x00"+key, value, ttl)
}

// DeleteSession implements handlers.Sessions.
func (s *Store) DeleteSession(_ context.Context, key string) error {
	return s.j.del("s\x00" + key)
}

// IncrSession implements handlers.Sessions.
func (s *Store) IncrSession(_ context.Context, key string, delta int64, ttl time.Duration) (int64, error) {
	if ttl <= 0 {
		return 0, errors.New("embedded store: IncrSession needs a ttl > 0")
	}
	return s.j.incr("s\x00"+key, delta, ttl)
}

// MarkSeenAndGet implements handlers.SeenLoader (two in-memory steps).
func (s *Store) MarkSeenAndGet(ctx context.Context, seenKey string, ttl time.Duration, sessionKey string) (bool, []byte, error) {
	first, err := s.MarkSeen(ctx, seenKey, ttl)
	if err != nil {
		return false, nil, err
	}
	v, ok, err := s.j.get("s\x00" + sessionKey)
	if err != nil || !ok {
		return first, nil, err
	}
	return first, v, nil
}

// PutSessions implements handlers.SessionBatcher: the writes share one
// group commit.
func (s *Store) PutSessions(ctx context.Context, puts []handlers.SessionPut) error {
	var wg sync.WaitGroup
	errs := make([]error, len(puts))
	for i, p := range puts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.PutSession(ctx, p.Key, p.Value, p.TTL)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
