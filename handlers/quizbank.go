package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"

	"policybot/knowledge"
	"policybot/quiz"
)

// KindQuizQuestion holds questions imported by officials (id: question id).
const KindQuizQuestion = "quizquestion"

// QuizBank is the question bank in force: the shipped questions plus those
// imported into the store. Reload swaps in a new bank; Bank is what the
// quiz and the console read. The zero value is not usable: use
// NewQuizBank.
type QuizBank struct {
	records Records
	kb      func() *knowledge.Base
	log     *slog.Logger
	bank    atomic.Pointer[quiz.Bank]
}

// NewQuizBank starts with the shipped bank, so the quiz works before the
// store answers; call Reload to add the imported questions.
func NewQuizBank(st Records, kb func() *knowledge.Base, logger *slog.Logger) *QuizBank {
	h := &QuizBank{records: st, kb: kb, log: logOr(logger)}
	if shipped, err := quiz.Shipped(); err == nil {
		if b, err := quiz.NewBank(shipped, kb().FileText); err == nil {
			h.bank.Store(b)
		}
	}
	return h
}

// Bank is the bank in force.
func (h *QuizBank) Bank() *quiz.Bank { return h.bank.Load() }

// Reload builds the bank again from the store; when the store does not
// answer, the bank in force stays.
func (h *QuizBank) Reload(ctx context.Context) {
	b, err := LoadQuizBank(ctx, h.kb(), h.records, func(err error) { h.log.Warn("quiz bank", "err", err) })
	if err != nil {
		h.log.Error("quiz bank not reloaded; keeping the one in force", "err", err)
		return
	}
	h.bank.Store(b)
}

// LoadQuizBank is the shipped bank plus the questions imported into the
// store. An imported question that no longer validates (its document was
// removed) is reported to warn and left out rather than taking the quiz
// down.
func LoadQuizBank(ctx context.Context, kb *knowledge.Base, st Records, warn func(error)) (*quiz.Bank, error) {
	shipped, err := quiz.Shipped()
	if err != nil {
		return nil, err
	}
	imported, err := importedQuestions(ctx, st)
	if err != nil {
		return nil, err
	}
	var ok []quiz.Question
	for _, q := range imported {
		if errs := quiz.Validate([]quiz.Question{q}, kb.FileText); len(errs) > 0 {
			warn(fmt.Errorf("imported question left out: %w", errs[0]))
			continue
		}
		ok = append(ok, q)
	}
	all, err := quiz.Merge(shipped, ok)
	if err != nil {
		return nil, err
	}
	return quiz.NewBank(all, kb.FileText)
}

func importedQuestions(ctx context.Context, st Records) ([]quiz.Question, error) {
	ids, err := st.ListRecords(ctx, KindQuizQuestion, "", 0)
	if err != nil {
		return nil, fmt.Errorf("list imported questions: %w", err)
	}
	data, err := st.GetRecords(ctx, KindQuizQuestion, ids)
	if err != nil {
		return nil, fmt.Errorf("read imported questions: %w", err)
	}
	var out []quiz.Question
	for i, d := range data {
		if d == nil {
			continue
		}
		var q quiz.Question
		if err := json.Unmarshal(d, &q); err != nil {
			return nil, fmt.Errorf("imported question %s is unreadable: %w", ids[i], err)
		}
		out = append(out, q)
	}
	return out, nil
}

// QuizImport is the outcome of ImportQuestions.
type QuizImport struct {
	Questions, New int
	// Bad lists the rows that do not validate; when there are any,
	// nothing was stored.
	Bad []quiz.RowError
}

// ImportQuestions reads a question workbook, checks every row against the
// knowledge base and stores the questions only when all are valid;
// importing a file again updates its questions in place.
func ImportQuestions(ctx context.Context, r io.Reader, kb *knowledge.Base, st Records) (QuizImport, error) {
	var res QuizImport
	shipped, err := quiz.Shipped()
	if err != nil {
		return res, err
	}
	reserved := map[string]bool{}
	for _, q := range shipped {
		reserved[q.ID] = true
	}
	qs, bad, err := quiz.ReadXLSX(r, kb.FileText, reserved)
	if err != nil {
		return res, err
	}
	if res.Bad = bad; len(bad) > 0 {
		return res, nil
	}
	existing, err := importedQuestions(ctx, st)
	if err != nil {
		return res, err
	}
	known := map[string]bool{}
	for _, q := range existing {
		known[q.ID] = true
	}
	for _, q := range qs {
		b, err := json.Marshal(q)
		if err != nil {
			return res, err
		}
		if err := st.PutRecord(ctx, KindQuizQuestion, q.ID, b); err != nil {
			return res, fmt.Errorf("storing %s: %w", q.ID, err)
		}
		res.Questions++
		if !known[q.ID] {
			res.New++
		}
	}
	return res, nil
}
