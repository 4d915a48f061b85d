package llm

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// The endpoint may return vectors out of order; each lands at its index.
// A reply with too few vectors is an error, not a shifted result.
func TestEmbedOrdersByIndexAndChecksCounts(t *testing.T) {
	short := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Input []string }
		json.NewDecoder(r.Body).Decode(&req)
		type item struct {
			Embedding []float32 `json:"embedding"`
			Index     int       `json:"index"`
		}
		var data []item
		for i := len(req.Input) - 1; i >= 0; i-- { // reversed
			data = append(data, item{[]float32{float32(len(req.Input[i]))}, i})
		}
		if short {
			data = data[1:]
		}
		json.NewEncoder(w).Encode(map[string]any{"data": data})
	}))
	defer srv.Close()
	e, err := NewEmbedder(EmbedOptions{BaseURL: srv.URL, Model: "m", Batch: 2})
	if err != nil {
		t.Fatal(err)
	}
	vs, err := e.Embed(context.Background(), []string{"a", "bb", "ccc"})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []float32{1, 2, 3} {
		if vs[i][0] != want {
			t.Fatalf("vector %d = %v, want %v", i, vs[i], want)
		}
	}
	short = true
	if _, err := e.Embed(context.Background(), []string{"a", "bb"}); err == nil {
		t.Fatal("a reply with a vector missing was accepted")
	}
	if _, err := NewEmbedder(EmbedOptions{}); err == nil {
		t.Fatal("an embedder without a model was built")
	}
}
