package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"policybot/handlers"
	"policybot/knowledge"
	"policybot/llm"
)

// kindEmbedding caches passage vectors in the store: id model:key (see
// knowledge.Base.EmbedKey), data the float32s little-endian. A passage
// whose text is unchanged is never embedded twice, on any instance.
const kindEmbedding = "embedding"

// newEmbedder returns the embedder for embed_model, or nil when none is set.
func newEmbedder(cfg Config) (*llm.Embedder, error) {
	if cfg.EmbedModel == "" {
		return nil, nil
	}
	return llm.NewEmbedder(llm.EmbedOptions{BaseURL: cfg.EmbedBaseURL, APIKey: cfg.EmbedAPIKey, Model: cfg.EmbedModel})
}

// withVectors gives kb its passages' vectors, read from the store's cache
// or embedded (and cached) now. When the model cannot be reached, kb is
// returned as it is: answers are found by words alone.
func withVectors(ctx context.Context, kb *knowledge.Base, e *llm.Embedder, rec handlers.Records) (*knowledge.Base, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	n := len(kb.Passages())
	ids := make([]string, n)
	for i := range ids {
		ids[i] = e.Model() + ":" + kb.EmbedKey(i)
	}
	cached, err := rec.GetRecords(ctx, kindEmbedding, ids)
	if err != nil {
		cached = make([][]byte, n) // the cache is down: embed them all
	}
	vecs := make([][]float32, n)
	var missing []int
	for i, b := range cached {
		if v := decodeVector(b); v != nil {
			vecs[i] = v
		} else {
			missing = append(missing, i)
		}
	}
	if len(missing) > 0 {
		texts := make([]string, len(missing))
		for k, i := range missing {
			texts[k] = kb.EmbedText(i)
		}
		got, err := e.Embed(ctx, texts)
		if err != nil {
			return kb, fmt.Errorf("embed %d passages: %w", len(missing), err)
		}
		for k, i := range missing {
			vecs[i] = got[k]
			if err := rec.PutRecord(ctx, kindEmbedding, ids[i], encodeVector(got[k])); err != nil && !errors.Is(err, context.Canceled) {
				err = fmt.Errorf("cache passage vectors: %w", err)
				return kb.WithVectors(vecs), err // usable now, embedded again next time
			}
		}
	}
	return kb.WithVectors(vecs), nil
}

func encodeVector(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func decodeVector(b []byte) []float32 {
	if len(b) == 0 || len(b)%4 != 0 {
		return nil
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}
