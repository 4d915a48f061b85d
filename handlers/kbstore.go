package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"policybot/knowledge"
)

// Record kinds of knowledge added from the console.
const (
	KindKBFile = "kbfile" // id: file name; data: the file's bytes
	KindKBFAQ  = "kbfaq"  // id: FAQ id; data: knowledge.FAQ
	// kbVersionKey counts changes, so every instance knows to reload.
	kbVersionKey = "kb:version"
	// MaxKBFile bounds one uploaded document.
	MaxKBFile = 8 << 20
)

// KBStore keeps documents and FAQ entries added from the console in the
// store, where every instance finds them; knowledge.Load reads them
// through FS as one more folder.
type KBStore struct {
	Records  Records
	Counters Counters
}

// ErrBadFileName: only .txt, .md and .docx documents (and their
// .meta.json), named without folders.
var ErrBadFileName = errors.New("文件名不对：只收 .txt、.md、.docx 文件（或它的 .meta.json），名字里不能带文件夹")

func validKBName(name string) bool {
	if name == "" || strings.ContainsAny(name, "/\\\x00") || name != path.Base(name) || strings.HasPrefix(name, ".") {
		return false
	}
	l := strings.ToLower(name)
	return strings.HasSuffix(l, ".txt") || strings.HasSuffix(l, ".md") || strings.HasSuffix(l, ".docx") || strings.HasSuffix(l, ".meta.json")
}

// PutFile stores a document (or its metadata) and bumps the version.
func (k KBStore) PutFile(ctx context.Context, name string, data []byte) error {
	if !validKBName(name) {
		return ErrBadFileName
	}
	if len(data) > MaxKBFile {
		return fmt.Errorf("%s: larger than %d MiB", name, MaxKBFile>>20)
	}
	if err := k.Records.PutRecord(ctx, KindKBFile, name, data); err != nil {
		return err
	}
	return k.bump(ctx)
}

// DeleteFile removes a document and its metadata.
func (k KBStore) DeleteFile(ctx context.Context, name string) error {
	if err := k.Records.DeleteRecord(ctx, KindKBFile, name); err != nil {
		return err
	}
	meta := strings.TrimSuffix(name, path.Ext(name)) + ".meta.json"
	if err := k.Records.DeleteRecord(ctx, KindKBFile, meta); err != nil {
		return err
	}
	return k.bump(ctx)
}

// Files lists the stored file names.
func (k KBStore) Files(ctx context.Context) ([]string, error) {
	return k.Records.ListRecords(ctx, KindKBFile, "", 0)
}

// PutFAQ stores an FAQ entry (questions one per variant) and bumps the version.
func (k KBStore) PutFAQ(ctx context.Context, f knowledge.FAQ) error {
	if f.ID == "" || strings.ContainsAny(f.ID, "/\x00") || len(f.Questions) == 0 || strings.TrimSpace(f.Answer) == "" || f.File == "" {
		return errors.New("FAQ 要有编号、至少一个问法、答案和出处文件")
	}
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	if err := k.Records.PutRecord(ctx, KindKBFAQ, f.ID, b); err != nil {
		return err
	}
	return k.bump(ctx)
}

// DeleteFAQ removes an FAQ entry.
func (k KBStore) DeleteFAQ(ctx context.Context, id string) error {
	if err := k.Records.DeleteRecord(ctx, KindKBFAQ, id); err != nil {
		return err
	}
	return k.bump(ctx)
}

// FAQs returns the stored FAQ entries, by id.
func (k KBStore) FAQs(ctx context.Context) ([]knowledge.FAQ, error) {
	ids, err := k.Records.ListRecords(ctx, KindKBFAQ, "", 0)
	if err != nil {
		return nil, err
	}
	return allJSON[knowledge.FAQ](ctx, k.Records, KindKBFAQ, ids)
}

// FS returns everything stored as a folder for knowledge.Load: the files,
// and the FAQ entries as console.faq.json.
func (k KBStore) FS(ctx context.Context) (knowledge.MemFS, error) {
	names, err := k.Files(ctx)
	if err != nil {
		return nil, err
	}
	data, err := k.Records.GetRecords(ctx, KindKBFile, names)
	if err != nil {
		return nil, err
	}
	m := knowledge.MemFS{}
	for i, n := range names {
		if data[i] != nil {
			m[n] = data[i]
		}
	}
	faqs, err := k.FAQs(ctx)
	if err != nil {
		return nil, err
	}
	if len(faqs) > 0 {
		sort.Slice(faqs, func(i, j int) bool { return faqs[i].ID < faqs[j].ID })
		b, _ := json.Marshal(faqs)
		m["console.faq.json"] = b
	}
	return m, nil
}

// Version changes whenever the stored knowledge does.
func (k KBStore) Version(ctx context.Context) (int64, error) {
	return k.Counters.Counter(ctx, kbVersionKey)
}

func (k KBStore) bump(ctx context.Context) error {
	_, err := k.Counters.Incr(ctx, kbVersionKey, 1)
	return err
}
