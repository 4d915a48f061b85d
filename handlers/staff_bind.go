package handlers

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"time"
)

// InviteCodeDigits is the length of invite codes.
const InviteCodeDigits = 6

// CreateInvite gives phone a new single-use code valid for ttl. Earlier
// unused codes of the person stay valid until they expire.
func (s *Staff) CreateInvite(ctx context.Context, phone string, ttl time.Duration) (Invite, error) {
	if _, err := s.Person(ctx, phone); err != nil {
		return Invite{}, fmt.Errorf("invite %s: %w", phone, err)
	}
	for try := 0; try < 20; try++ {
		n, err := rand.Int(rand.Reader, big.NewInt(900000))
		if err != nil {
			return Invite{}, err
		}
		code := strconv.Itoa(int(n.Int64()) + 100000)
		// reserve the code: never hand out one that exists or was used
		first, err := s.Store.MarkSeen(ctx, "invitecode:"+code, 400*24*time.Hour)
		if err != nil {
			return Invite{}, err
		}
		if !first {
			continue
		}
		inv := Invite{Code: code, Phone: phone, Expires: s.now().Add(ttl)}
		return inv, putJSON(ctx, s.Store, KindInvite, code, inv, IndexEntry{Name: "phone", Value: phone})
	}
	return Invite{}, errors.New("invite: no free code found")
}

// Bind errors, each answered with its own text.
var (
	ErrInviteUnknown = errors.New("unknown invite code")
	ErrInviteUsed    = errors.New("invite code already used")
	ErrInviteExpired = errors.New("invite code expired")
)

// Bind binds openid to the person of code. The code works once; a person
// bound before moves to the new openid, and an openid bound to someone
// else (a phone number that changed) is moved to this person.
func (s *Staff) Bind(ctx context.Context, openid, code string) (StaffPerson, error) {
	inv, err := getJSON[Invite](ctx, s.Store, KindInvite, code)
	if errors.Is(err, ErrNotFound) {
		return StaffPerson{}, ErrInviteUnknown
	}
	if err != nil {
		return StaffPerson{}, err
	}
	if inv.UsedBy != "" {
		if inv.UsedBy == openid { // the same person again: harmless
			return s.Person(ctx, inv.Phone)
		}
		return StaffPerson{}, ErrInviteUsed
	}
	if s.now().After(inv.Expires) {
		return StaffPerson{}, ErrInviteExpired
	}
	first, err := s.Store.MarkSeen(ctx, "inviteused:"+code, 400*24*time.Hour)
	if err != nil {
		return StaffPerson{}, err
	}
	if !first {
		return StaffPerson{}, ErrInviteUsed
	}
	p, err := s.Person(ctx, inv.Phone)
	if err != nil {
		return StaffPerson{}, fmt.Errorf("bind: %w", err)
	}
	if other, err := s.ByOpenID(ctx, openid); err == nil && other.Phone != p.Phone {
		other.OpenID, other.BoundAt = "", time.Time{}
		if err := s.putPerson(ctx, other); err != nil {
			return StaffPerson{}, err
		}
	}
	p.OpenID, p.BoundAt = openid, s.now()
	if err := s.putPerson(ctx, p); err != nil {
		return StaffPerson{}, err
	}
	inv.UsedBy, inv.UsedAt = openid, s.now()
	if err := putJSON(ctx, s.Store, KindInvite, code, inv, IndexEntry{Name: "phone", Value: inv.Phone}); err != nil {
		return StaffPerson{}, err
	}
	s.syncQuiz(ctx, p)
	return p, nil
}

// Unbind removes openid's binding; false when it had none.
func (s *Staff) Unbind(ctx context.Context, openid string) (bool, error) {
	p, err := s.ByOpenID(ctx, openid)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	p.OpenID, p.BoundAt = "", time.Time{}
	return true, s.putPerson(ctx, p)
}
