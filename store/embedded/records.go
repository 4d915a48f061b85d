package embedded

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"

	bolt "go.etcd.io/bbolt"

	"policybot/handlers"
)

// Records live in bucket "r:<kind>" (id → envelope) and their index
// entries in bucket "i:<kind>" as keys "name\x00value\x00id".

type envelope struct {
	Data  []byte                `json:"d"`
	Index []handlers.IndexEntry `json:"i,omitempty"`
}

func idxKey(name, value, id string) []byte {
	return []byte(name + "\x00" + value + "\x00" + id)
}

// GetRecords implements handlers.Records, in one read transaction.
func (s *Store) GetRecords(_ context.Context, kind string, ids []string) ([][]byte, error) {
	out := make([][]byte, len(ids))
	err := s.view(func(tx *bolt.Tx) error {
		rb := tx.Bucket([]byte("r:" + kind))
		if rb == nil {
			return nil
		}
		for i, id := range ids {
			v := rb.Get([]byte(id))
			if v == nil {
				continue
			}
			var env envelope
			if err := json.Unmarshal(v, &env); err != nil {
				return fmt.Errorf("record %s/%s is unreadable: %w", kind, id, err)
			}
			if env.Data == nil {
				env.Data = []byte{}
			}
			out[i] = env.Data
		}
		return nil
	})
	return out, err
}

// PutRecord implements handlers.Records.
func (s *Store) PutRecord(_ context.Context, kind, id string, data []byte, index ...handlers.IndexEntry) error {
	if err := checkName("kind", kind); err != nil {
		return err
	}
	if err := checkName("id", id); err != nil {
		return err
	}
	for _, e := range index {
		if err := checkName("index name", e.Name); err != nil {
			return err
		}
		if err := checkName("value", e.Value); err != nil {
			return err
		}
	}
	env, err := json.Marshal(envelope{Data: data, Index: index})
	if err != nil {
		return fmt.Errorf("embedded store: %w", err)
	}
	return s.update(func(tx *bolt.Tx) error {
		rb, err := tx.CreateBucketIfNotExists([]byte("r:" + kind))
		if err != nil {
			return err
		}
		ib, err := tx.CreateBucketIfNotExists([]byte("i:" + kind))
		if err != nil {
			return err
		}
		if err := removeIndex(rb, ib, id); err != nil {
			return err
		}
		for _, e := range index {
			if err := ib.Put(idxKey(e.Name, e.Value, id), nil); err != nil {
				return err
			}
		}
		return rb.Put([]byte(id), env)
	})
}

// removeIndex deletes the index entries of the stored record id, if any.
func removeIndex(rb, ib *bolt.Bucket, id string) error {
	old := rb.Get([]byte(id))
	if old == nil {
		return nil
	}
	var env envelope
	if err := json.Unmarshal(old, &env); err != nil {
		return fmt.Errorf("record %q is unreadable: %w", id, err)
	}
	for _, e := range env.Index {
		if err := ib.Delete(idxKey(e.Name, e.Value, id)); err != nil {
			return err
		}
	}
	return nil
}

// GetRecord implements handlers.Records.
func (s *Store) GetRecord(_ context.Context, kind, id string) ([]byte, error) {
	var out []byte
	found := false
	err := s.view(func(tx *bolt.Tx) error {
		rb := tx.Bucket([]byte("r:" + kind))
		if rb == nil {
			return nil
		}
		v := rb.Get([]byte(id))
		if v == nil {
			return nil
		}
		var env envelope
		if err := json.Unmarshal(v, &env); err != nil {
			return fmt.Errorf("record %s/%s is unreadable: %w", kind, id, err)
		}
		out, found = env.Data, true
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("record %s/%s: %w", kind, id, handlers.ErrNotFound)
	}
	return out, nil
}

// DeleteRecord implements handlers.Records.
func (s *Store) DeleteRecord(_ context.Context, kind, id string) error {
	return s.update(func(tx *bolt.Tx) error {
		rb, ib := tx.Bucket([]byte("r:"+kind)), tx.Bucket([]byte("i:"+kind))
		if rb == nil || ib == nil {
			return nil
		}
		if err := removeIndex(rb, ib, id); err != nil {
			return err
		}
		return rb.Delete([]byte(id))
	})
}

// LookupRecords implements handlers.Records.
func (s *Store) LookupRecords(_ context.Context, kind, index, value string) ([]string, error) {
	ids := []string{}
	prefix := []byte(index + "\x00" + value + "\x00")
	err := s.view(func(tx *bolt.Tx) error {
		ib := tx.Bucket([]byte("i:" + kind))
		if ib == nil {
			return nil
		}
		c := ib.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			ids = append(ids, string(k[len(prefix):]))
		}
		return nil
	})
	sort.Strings(ids)
	return ids, err
}

// RangeRecords implements handlers.Records.
func (s *Store) RangeRecords(_ context.Context, kind, index, from, to string, limit int) ([]handlers.IndexHit, error) {
	hits := []handlers.IndexHit{}
	prefix := []byte(index + "\x00")
	err := s.view(func(tx *bolt.Tx) error {
		ib := tx.Bucket([]byte("i:" + kind))
		if ib == nil {
			return nil
		}
		c := ib.Cursor()
		for k, _ := c.Seek(append(append([]byte{}, prefix...), from...)); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			rest := k[len(prefix):]
			i := bytes.IndexByte(rest, 0)
			if i < 0 {
				continue
			}
			value, id := string(rest[:i]), string(rest[i+1:])
			if to != "" && value >= to {
				break
			}
			hits = append(hits, handlers.IndexHit{Value: value, ID: id})
			if limit > 0 && len(hits) == limit {
				break
			}
		}
		return nil
	})
	return hits, err
}

// ListRecords implements handlers.Records.
func (s *Store) ListRecords(_ context.Context, kind, afterID string, limit int) ([]string, error) {
	ids := []string{}
	err := s.view(func(tx *bolt.Tx) error {
		rb := tx.Bucket([]byte("r:" + kind))
		if rb == nil {
			return nil
		}
		c := rb.Cursor()
		k, _ := c.First()
		if afterID != "" {
			k, _ = c.Seek([]byte(afterID))
			if k != nil && string(k) == afterID {
				k, _ = c.Next()
			}
		}
		for ; k != nil; k, _ = c.Next() {
			ids = append(ids, string(k))
			if limit > 0 && len(ids) == limit {
				break
			}
		}
		return nil
	})
	return ids, err
}
