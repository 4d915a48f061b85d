package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"policybot/roster"
)

// ImportResult counts what an import changed.
type ImportResult struct {
	People, Pairings, Tasks int
}

// KindImport keeps a roster import while it is applied (id "pending"):
// written whole before the first record changes and removed after the
// last, so an import cut short by a crash is finished by ResumeImport.
const KindImport = "rosterimport"

// Apply stores a checked roster: people keep their WeChat binding, tasks
// keep their closing, everything else is replaced by the file's values.
// Running it twice changes nothing the second time. The roster is first
// kept whole as the pending import: if the process dies part way, the next
// ResumeImport applies all of it.
func (s *Staff) Apply(ctx context.Context, r roster.Roster) (ImportResult, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return ImportResult{}, err
	}
	if err := s.Store.PutRecord(ctx, KindImport, "pending", b); err != nil {
		return ImportResult{}, fmt.Errorf("staff: keep the import: %w", err)
	}
	res, err := s.apply(ctx, r)
	if err != nil {
		return res, err // still pending: ResumeImport finishes it
	}
	return res, s.Store.DeleteRecord(ctx, KindImport, "pending")
}

// PendingImport returns the import that was being applied when the
// process stopped, or ErrNotFound.
func (s *Staff) PendingImport(ctx context.Context) (roster.Roster, error) {
	return getJSON[roster.Roster](ctx, s.Store, KindImport, "pending")
}

// ResumeImport applies a pending import whole (see Apply); resumed is
// false when there was none. serve calls it at start and every minute.
func (s *Staff) ResumeImport(ctx context.Context) (res ImportResult, resumed bool, err error) {
	r, err := s.PendingImport(ctx)
	if errors.Is(err, ErrNotFound) {
		return res, false, nil
	}
	if err != nil {
		return res, false, err
	}
	res, err = s.Apply(ctx, r)
	return res, true, err
}

func (s *Staff) apply(ctx context.Context, r roster.Roster) (ImportResult, error) {
	var res ImportResult
	for _, p := range r.People {
		sp := StaffPerson{Person: p}
		if old, err := s.Person(ctx, p.Phone); err == nil {
			sp.OpenID, sp.BoundAt = old.OpenID, old.BoundAt
		} else if !errors.Is(err, ErrNotFound) {
			return res, err
		}
		if err := s.putPerson(ctx, sp); err != nil {
			return res, err
		}
		if sp.OpenID != "" {
			s.syncQuiz(ctx, sp)
		}
		res.People++
	}
	for _, p := range r.Pairings {
		if err := putJSON(ctx, s.Store, KindPairing, p.Key(), p, IndexEntry{Name: "helper", Value: p.HelperPhone},
			IndexEntry{Name: "village", Value: p.Town + "/" + p.Village}); err != nil {
			return res, err
		}
		res.Pairings++
	}
	for _, t := range r.Tasks {
		st := StaffTask{Task: t}
		if old, err := getJSON[StaffTask](ctx, s.Store, KindTask, t.ID); err == nil {
			st.Closed, st.ClosedAt, st.ClosedBy, st.Note = old.Closed, old.ClosedAt, old.ClosedBy, old.Note
		} else if !errors.Is(err, ErrNotFound) {
			return res, err
		}
		if err := s.putTask(ctx, st); err != nil {
			return res, err
		}
		res.Tasks++
	}
	return res, nil
}

// syncQuiz gives the person's quiz record their name, place and role.
func (s *Staff) syncQuiz(ctx context.Context, p StaffPerson) {
	if s.Quiz == nil || p.OpenID == "" {
		return
	}
	u, err := s.Quiz.User(ctx, p.OpenID)
	if err != nil {
		s.log().Warn("staff: quiz record not updated", "err", err)
		return
	}
	u.Name, u.Role = p.Name, p.Role
	if p.Village != "" {
		u.Town, u.Village = p.Town, p.Village
	}
	if err := s.Quiz.PutUser(ctx, u); err != nil {
		s.log().Warn("staff: quiz record not updated", "err", err)
	}
}
