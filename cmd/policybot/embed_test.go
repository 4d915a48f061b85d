package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"policybot/handlers"
	"policybot/store/embedded"
)

// fakeEmbeddings is an OpenAI-compatible /embeddings endpoint: a vector
// per input from a few concepts, the inputs it was sent, and a switch to
// fail.
type fakeEmbeddings struct {
	mu     sync.Mutex
	inputs []string
	fail   bool
}

func (f *fakeEmbeddings) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Input []string `json:"input"`
		Model string   `json:"model"`
	}
	json.NewDecoder(r.Body).Decode(&req)
	f.mu.Lock()
	f.inputs = append(f.inputs, req.Input...)
	fail := f.fail
	f.mu.Unlock()
	if fail || !strings.HasSuffix(r.URL.Path, "/embeddings") || req.Model != "fake-embed" {
		http.Error(w, `{"error":{"message":"unavailable"}}`, http.StatusServiceUnavailable)
		return
	}
	type item struct {
		Object    string    `json:"object"`
		Embedding []float32 `json:"embedding"`
		Index     int       `json:"index"`
	}
	var data []item
	for i, in := range req.Input {
		v := []float32{0.1, 0, 0}
		if strings.Contains(in, "驻村") || strings.Contains(in, "蹲点") {
			v[1] = 1
		}
		if strings.Contains(in, "低保") {
			v[2] = 1
		}
		data = append(data, item{"embedding", v, i})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data, "model": req.Model})
}

func (f *fakeEmbeddings) sent() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.inputs...)
}

// Issue 13.6: with embed_model set, passages are embedded once (cached in
// the store by their text's hash), questions are embedded within their
// timeout, and a failing model leaves answers to the words.
func TestEmbeddingsAreCachedAndOptional(t *testing.T) {
	fake := &fakeEmbeddings{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	st, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := defaultConfig()
	cfg.EmbedModel, cfg.EmbedBaseURL, cfg.EmbedAPIKey = "fake-embed", srv.URL+"/v1", "sk-x"
	e, err := newEmbedder(cfg)
	if err != nil || e == nil {
		t.Fatalf("embedder: %v", err)
	}
	kbh := &handlers.Knowledge{Options: knowledgeOptions(cfg), Store: handlers.KBStore{Records: st, Counters: st}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Embedder: e, Vectors: st}
	ctx := context.Background()
	if err := kbh.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	passages := len(kbh.Load().Passages())
	if !kbh.Load().HasVectors() || len(fake.sent()) != passages {
		t.Fatalf("first load: vectors %v, %d texts embedded for %d passages", kbh.Load().HasVectors(), len(fake.sent()), passages)
	}
	if err := kbh.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(fake.sent()); n != passages {
		t.Fatalf("a reload embedded %d texts again: the cache was not used", n-passages)
	}
	asker := &handlers.Asker{KB: kbh.Load, Embed: e.EmbedOne}
	r := asker.Ask(ctx, "", "驻村干部一个月得在村里待几天")
	if !r.Answered || !strings.Contains(r.Text, "20天") {
		t.Fatalf("answer with vectors: %+v", r)
	}
	if sent := fake.sent(); sent[len(sent)-1] != "驻村干部一个月得在村里待几天" {
		t.Fatalf("the question was not embedded: last input %q", sent[len(sent)-1])
	}
	// the model goes away: questions are answered by words, and a reload
	// keeps serving (from the cache, or by words)
	fake.mu.Lock()
	fake.fail = true
	fake.mu.Unlock()
	if r := asker.Ask(ctx, "", "驻村干部一个月得在村里待几天"); !r.Answered || !strings.Contains(r.Text, "20天") {
		t.Fatalf("answer with the model down: %+v", r)
	}
	st.PutRecord(ctx, handlers.KindKBFile, "新.txt", []byte("某县低保通知\n\n一、低保复核\n\n低保家庭每年复核一次。\n"))
	if err := kbh.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if kbh.Load().HasVectors() {
		t.Error("a base with a passage the model could not embed claims vectors")
	}
	if a := kbh.Load().Answer("低保家庭多久复核一次"); !a.Answered {
		t.Errorf("the new document is not answered by words: %+v", a)
	}
}
