package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"policybot/handlers"
)

// fileUnanswered appends unanswered questions to a JSON-lines file, one
// object per line. It stands in until the store records them.
type fileUnanswered struct {
	path string
	mu   sync.Mutex
}

func newFileUnanswered(dataDir string) *fileUnanswered {
	return &fileUnanswered{path: filepath.Join(dataDir, "unanswered.jsonl")}
}

// RecordUnanswered appends q and syncs the file, so a recorded question
// survives a crash.
func (f *fileUnanswered) RecordUnanswered(_ context.Context, q handlers.UnansweredQuestion) error {
	line, err := json.Marshal(q)
	if err != nil {
		return fmt.Errorf("unanswered log: encode: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(f.path), 0o750); err != nil {
		return fmt.Errorf("unanswered log: %w", err)
	}
	fh, err := os.OpenFile(f.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("unanswered log: %w", err)
	}
	if _, err := fh.Write(append(line, '\n')); err != nil {
		fh.Close()
		return fmt.Errorf("unanswered log: write %s: %w", f.path, err)
	}
	if err := fh.Sync(); err != nil {
		fh.Close()
		return fmt.Errorf("unanswered log: sync %s: %w", f.path, err)
	}
	return fh.Close()
}
