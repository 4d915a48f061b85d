package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"policybot/handlers"
)

// WeCom sends WeCom (企业微信) application messages to staff who are in
// the corp, found by their mobile number. It implements the scheduler's
// WeComSender: a number with no WeCom account is "not applicable", so
// the next channel is tried.
type WeCom struct {
	Base    string // default https://qyapi.weixin.qq.com
	CorpID  string
	Secret  string
	AgentID int
	HTTP    *http.Client
	// Users caches mobile → userid (a session per number, a week).
	Users handlers.Sessions

	mu      sync.Mutex
	token   string
	expires time.Time
}

// WeCom error codes acted on.
const (
	wecomTokenInvalid  = 40014
	wecomTokenExpired  = 42001
	wecomNoSuchUser    = 46004 // no member with this mobile
	wecomUserInvalid   = 81013 // the member cannot receive from this app
	wecomNoMobileMatch = 60103
)

func (w *WeCom) base() string {
	if w.Base == "" {
		return "https://qyapi.weixin.qq.com"
	}
	return strings.TrimRight(w.Base, "/")
}

func (w *WeCom) client() *http.Client {
	if w.HTTP == nil {
		return &http.Client{Timeout: 5 * time.Second}
	}
	return w.HTTP
}

func (w *WeCom) accessToken(ctx context.Context, refresh bool) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !refresh && w.token != "" && time.Now().Before(w.expires) {
		return w.token, nil
	}
	q := url.Values{"corpid": {w.CorpID}, "corpsecret": {w.Secret}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.base()+"/cgi-bin/gettoken?"+q.Encode(), nil)
	if err != nil {
		return "", err
	}
	var out struct {
		ErrCode     int    `json:"errcode"`
		ErrMsg      string `json:"errmsg"`
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := w.do(req, &out); err != nil {
		return "", err
	}
	if out.ErrCode != 0 || out.AccessToken == "" {
		return "", &APIError{Op: "wecom gettoken", Code: out.ErrCode, Msg: out.ErrMsg}
	}
	w.token, w.expires = out.AccessToken, time.Now().Add(time.Duration(out.ExpiresIn-300)*time.Second)
	return w.token, nil
}

func (w *WeCom) do(req *http.Request, out any) error {
	resp, err := w.client().Do(req)
	if err != nil {
		return fmt.Errorf("wecom: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("wecom: read response: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("wecom: HTTP %d", resp.StatusCode)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("wecom: unreadable response: %w", err)
	}
	return nil
}

// call posts body to path with the token, refreshing it once on 40014/42001.
func (w *WeCom) call(ctx context.Context, op, path string, body any, out any) (int, string, error) {
	b, _ := json.Marshal(body)
	for attempt := 0; attempt < 2; attempt++ {
		tok, err := w.accessToken(ctx, attempt == 1)
		if err != nil {
			return 0, "", err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.base()+path+"?access_token="+url.QueryEscape(tok), bytes.NewReader(b))
		if err != nil {
			return 0, "", err
		}
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		var raw json.RawMessage
		if err := w.do(req, &raw); err != nil {
			return 0, "", err
		}
		var ce struct {
			ErrCode int    `json:"errcode"`
			ErrMsg  string `json:"errmsg"`
		}
		json.Unmarshal(raw, &ce)
		if (ce.ErrCode == wecomTokenInvalid || ce.ErrCode == wecomTokenExpired) && attempt == 0 {
			continue
		}
		if out != nil && ce.ErrCode == 0 {
			if err := json.Unmarshal(raw, out); err != nil {
				return 0, "", fmt.Errorf("wecom %s: unreadable response: %w", op, err)
			}
		}
		return ce.ErrCode, ce.ErrMsg, nil
	}
	return 0, "", fmt.Errorf("wecom %s: token refused twice", op)
}

// errNotInCorp says the number has no usable WeCom account; its
// Disposition is never consulted: the channel turns it into "try next".
var errNotInCorp = fmt.Errorf("wecom: not a member")

// ErrNotInCorp reports whether err means the person is not reachable on
// WeCom (the caller moves on to the next channel).
func ErrNotInCorp(err error) bool { return err == errNotInCorp }

func (w *WeCom) userID(ctx context.Context, mobile string) (string, error) {
	if w.Users != nil {
		if b, err := w.Users.GetSession(ctx, "wecomuser:"+mobile); err == nil {
			if len(b) == 0 {
				return "", errNotInCorp
			}
			return string(b), nil
		}
	}
	var out struct {
		UserID string `json:"userid"`
	}
	code, msg, err := w.call(ctx, "getuserid", "/cgi-bin/user/getuserid", map[string]string{"mobile": mobile}, &out)
	if err != nil {
		return "", err
	}
	switch code {
	case 0:
	case wecomNoSuchUser, wecomNoMobileMatch:
		out.UserID = ""
	default:
		return "", &APIError{Op: "wecom getuserid", Code: code, Msg: msg}
	}
	if w.Users != nil {
		w.Users.PutSession(ctx, "wecomuser:"+mobile, []byte(out.UserID), 7*24*time.Hour)
	}
	if out.UserID == "" {
		return "", errNotInCorp
	}
	return out.UserID, nil
}

// SendWeCom sends text to the member with this mobile number. A number
// not in the corp returns an error for which ErrNotInCorp is true.
func (w *WeCom) SendWeCom(ctx context.Context, mobile, text string) error {
	uid, err := w.userID(ctx, mobile)
	if err != nil {
		return err
	}
	code, msg, err := w.call(ctx, "message send", "/cgi-bin/message/send",
		map[string]any{"touser": uid, "msgtype": "text", "agentid": w.AgentID, "text": map[string]string{"content": text}}, nil)
	if err != nil {
		return err
	}
	switch code {
	case 0:
		return nil
	case wecomUserInvalid:
		return errNotInCorp
	}
	return &APIError{Op: "wecom message send", Code: code, Msg: msg}
}
