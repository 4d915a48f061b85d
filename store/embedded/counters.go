package embedded

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"sort"

	bolt "go.etcd.io/bbolt"

	"policybot/handlers"
)

// Counters live in bucket "counters" (key → int64, big-endian); each
// ranking in bucket "b:<board>" (member → float64 bits). Boards are per
// village and per week, so a scan to sort them stays small.

// Incr implements handlers.Counters.
func (s *Store) Incr(_ context.Context, key string, delta int64) (int64, error) {
	var out int64
	err := s.update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("counters"))
		if err != nil {
			return err
		}
		v := int64(0)
		if old := b.Get([]byte(key)); len(old) == 8 {
			v = int64(binary.BigEndian.Uint64(old))
		}
		v += delta
		out = v
		var buf [8]byte
		binary.BigEndian.PutUint64(buf[:], uint64(v))
		return b.Put([]byte(key), buf[:])
	})
	return out, err
}

// Counter implements handlers.Counters.
func (s *Store) Counter(_ context.Context, key string) (int64, error) {
	var out int64
	err := s.view(func(tx *bolt.Tx) error {
		if b := tx.Bucket([]byte("counters")); b != nil {
			if v := b.Get([]byte(key)); len(v) == 8 {
				out = int64(binary.BigEndian.Uint64(v))
			}
		}
		return nil
	})
	return out, err
}

// AddScore implements handlers.Counters.
func (s *Store) AddScore(_ context.Context, board, member string, delta float64) (float64, error) {
	if err := checkName("board", board); err != nil {
		return 0, err
	}
	var out float64
	err := s.update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("b:" + board))
		if err != nil {
			return err
		}
		v := 0.0
		if old := b.Get([]byte(member)); len(old) == 8 {
			v = math.Float64frombits(binary.BigEndian.Uint64(old))
		}
		v += delta
		out = v
		var buf [8]byte
		binary.BigEndian.PutUint64(buf[:], math.Float64bits(v))
		return b.Put([]byte(member), buf[:])
	})
	return out, err
}

// ranked returns a board sorted by score, highest first, ties by member.
func (s *Store) ranked(board string) ([]handlers.Scored, error) {
	var all []handlers.Scored
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("b:" + board))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			if len(v) != 8 {
				return fmt.Errorf("board %s member %q is unreadable", board, k)
			}
			all = append(all, handlers.Scored{Member: string(k), Score: math.Float64frombits(binary.BigEndian.Uint64(v))})
			return nil
		})
	})
	sort.SliceStable(all, func(i, j int) bool { return all[i].Score > all[j].Score })
	return all, err
}

// TopScores implements handlers.Counters.
func (s *Store) TopScores(_ context.Context, board string, n int) ([]handlers.Scored, error) {
	all, err := s.ranked(board)
	if err != nil {
		return nil, err
	}
	if all == nil {
		all = []handlers.Scored{}
	}
	if n >= 0 && len(all) > n {
		all = all[:n]
	}
	return all, nil
}

// ScoreOf implements handlers.Counters.
func (s *Store) ScoreOf(_ context.Context, board, member string) (float64, int, error) {
	all, err := s.ranked(board)
	if err != nil {
		return 0, 0, err
	}
	for i, x := range all {
		if x.Member == member {
			return x.Score, i + 1, nil
		}
	}
	return 0, 0, fmt.Errorf("board %s member %s: %w", board, member, handlers.ErrNotFound)
}
