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
	"time"

	"github.com/silenceper/wechat/v2/credential"

	"policybot/handlers"
)

// APIError is an error reported by the WeChat API. Decide on Code only:
// the message text changes over time.
type APIError struct {
	Op   string
	Code int
	Msg  string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("wechat %s: errcode %d: %s", e.Op, e.Code, e.Msg)
}

// Disposition tells a delivery pipeline what to do after this error:
// 43004 (not following) stop and mark the person; 40003/40037 (bad openid
// or template id) dead-letter; 45009 (daily quota) wait for tomorrow;
// 45015/45047/48001 (window closed, per-person quota, no permission) give
// up; anything else (-1 busy, unknown codes) retry with backoff.
func (e *APIError) Disposition() handlers.Disposition {
	switch e.Code {
	case ErrCodeNotFollowing:
		return handlers.NotFollowing
	case ErrCodeInvalidOpenID, ErrCodeInvalidTemplate:
		return handlers.Bury
	case ErrCodeDailyQuota:
		return handlers.WaitTomorrow
	case ErrCodeOutOfWindow, ErrCodeOverQuota, ErrCodeNoPermission:
		return handlers.GiveUp
	}
	return handlers.Retry
}

// Error codes the bot acts on (../shared/wechat-samples/api_responses/error_codes.json).
const (
	ErrCodeInvalidToken  = 40001 // refresh the token and retry once
	ErrCodeTokenExpired  = 42001 // likewise
	ErrCodeOutOfWindow   = 45015 // customer-service window (48 h) closed
	ErrCodeOverQuota     = 45047 // too many customer-service messages
	ErrCodeNoPermission  = 48001 // the account may not send this
	ErrCodeNotFollowing  = 43004
	ErrCodeDailyQuota    = 45009
	ErrCodeInvalidOpenID = 40003
	// ErrCodeInvalidTemplate: the template id is wrong.
	ErrCodeInvalidTemplate = 40037
)

// TokenSource hands out access tokens.
type TokenSource interface {
	// Token returns the cached token, fetching one when there is none.
	Token(ctx context.Context) (string, error)
	// Refresh fetches a new token (after WeChat said 40001/42001).
	Refresh(ctx context.Context) (string, error)
}

// API calls the WeChat API endpoints the bot needs.
type API struct {
	Base   string       // default https://api.weixin.qq.com
	HTTP   *http.Client // default: 5 s timeout
	Tokens TokenSource
}

const defaultAPIBase = "https://api.weixin.qq.com"

func (a *API) base() string {
	if a.Base == "" {
		return defaultAPIBase
	}
	return strings.TrimRight(a.Base, "/")
}

func (a *API) client() *http.Client {
	if a.HTTP == nil {
		return &http.Client{Timeout: 5 * time.Second}
	}
	return a.HTTP
}

// post sends body to path with the access token. On 40001/42001 it
// refreshes the token once and retries once.
func (a *API) post(ctx context.Context, op, path string, body []byte) error {
	return a.postFor(ctx, op, path, body, nil)
}

// postFor is post that also decodes a successful response into out.
func (a *API) postFor(ctx context.Context, op, path string, body []byte, out any) error {
	for attempt := 0; attempt < 2; attempt++ {
		get := a.Tokens.Token
		if attempt == 1 {
			get = a.Tokens.Refresh
		}
		tok, err := get(ctx)
		if err != nil {
			return fmt.Errorf("wechat %s: access token: %w", op, err)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base()+path+"?access_token="+tok, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		resp, err := a.client().Do(req)
		if err != nil {
			return fmt.Errorf("wechat %s: %w", op, err)
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("wechat %s: read response: %w", op, err)
		}
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("wechat %s: HTTP %d", op, resp.StatusCode)
		}
		var ce struct {
			ErrCode int    `json:"errcode"`
			ErrMsg  string `json:"errmsg"`
		}
		if err := json.Unmarshal(data, &ce); err != nil {
			return fmt.Errorf("wechat %s: unreadable response: %w", op, err)
		}
		switch ce.ErrCode {
		case 0:
			if out != nil {
				if err := json.Unmarshal(data, out); err != nil {
					return fmt.Errorf("wechat %s: unreadable response: %w", op, err)
				}
			}
			return nil
		case ErrCodeInvalidToken, ErrCodeTokenExpired:
			if attempt == 0 {
				continue
			}
		}
		return &APIError{Op: op, Code: ce.ErrCode, Msg: ce.ErrMsg}
	}
	panic("unreachable")
}

// SendText sends a customer-service text message (allowed within 48 h of
// the user's last message).
func (a *API) SendText(ctx context.Context, openid, text string) error {
	body, _ := json.Marshal(map[string]any{"touser": openid, "msgtype": "text", "text": map[string]string{"content": text}})
	return a.post(ctx, "customer-service send", "/cgi-bin/message/custom/send", body)
}

// TemplateFieldRunes is the most characters a template field keeps: WeChat
// shows at most 20 of a thing/name field, so values are cut to fit.
const TemplateFieldRunes = 20

// templateBody is the request of a template or subscribe message, each
// value cut to TemplateFieldRunes.
func templateBody(openid, templateID string, fields map[string]string) []byte {
	data := map[string]map[string]string{}
	for k, v := range fields {
		if r := []rune(v); len(r) > TemplateFieldRunes {
			v = string(r[:TemplateFieldRunes-1]) + "…"
		}
		data[k] = map[string]string{"value": v}
	}
	body, _ := json.Marshal(map[string]any{"touser": openid, "template_id": templateID, "data": data})
	return body
}

// SendTemplate sends a template message and returns its msgid (which
// TEMPLATESENDJOBFINISH reports on later). Values longer than
// TemplateFieldRunes are cut with "…".
func (a *API) SendTemplate(ctx context.Context, openid, templateID string, fields map[string]string) (string, error) {
	body := templateBody(openid, templateID, fields)
	var out struct {
		MsgID json.Number `json:"msgid"`
	}
	if err := a.postFor(ctx, "template send", "/cgi-bin/message/template/send", body, &out); err != nil {
		return "", err
	}
	return out.MsgID.String(), nil
}

// SendSubscribe sends a subscribe message (订阅通知) the person accepted
// earlier; 43101 means they did not. Values are cut like SendTemplate's.
func (a *API) SendSubscribe(ctx context.Context, openid, templateID string, fields map[string]string) error {
	body := templateBody(openid, templateID, fields)
	return a.post(ctx, "subscribe send", "/cgi-bin/message/subscribe/bizsend", body)
}

// MassSendText broadcasts text to 2–10,000 followers by openid (a service
// account's mass send; each follower receives at most 4 a month). It
// returns the msg_id that MASSSENDJOBFINISH reports on.
func (a *API) MassSendText(ctx context.Context, openids []string, text string) (string, error) {
	body, _ := json.Marshal(map[string]any{"touser": openids, "msgtype": "text", "text": map[string]string{"content": text}})
	var out struct {
		MsgID json.Number `json:"msg_id"`
	}
	if err := a.postFor(ctx, "mass send", "/cgi-bin/message/mass/send", body, &out); err != nil {
		return "", err
	}
	return out.MsgID.String(), nil
}

// CreateQRScene creates a temporary QR code for scene (a string scene,
// at most 64 characters) valid for ttl (at most 30 days), and returns the
// address of its image.
func (a *API) CreateQRScene(ctx context.Context, scene string, ttl time.Duration) (string, error) {
	body, _ := json.Marshal(map[string]any{"expire_seconds": int(ttl.Seconds()), "action_name": "QR_STR_SCENE",
		"action_info": map[string]any{"scene": map[string]string{"scene_str": scene}}})
	var out struct {
		Ticket string `json:"ticket"`
	}
	if err := a.postFor(ctx, "qrcode create", "/cgi-bin/qrcode/create", body, &out); err != nil {
		return "", err
	}
	if out.Ticket == "" {
		return "", fmt.Errorf("wechat qrcode create: no ticket in the response")
	}
	return "https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=" + url.QueryEscape(out.Ticket), nil
}

// CreateMenu replaces the custom menu with menuJSON ({"button": [...]}).
func (a *API) CreateMenu(ctx context.Context, menuJSON []byte) error {
	return a.post(ctx, "menu create", "/cgi-bin/menu/create", menuJSON)
}

// StableTokens is a TokenSource on the SDK's stable-token credential,
// cached in the store so every instance shares one token.
type StableTokens struct {
	h     *credential.StableAccessToken
	cache *TokenCache
	key   string
}

// NewStableTokens builds the token source for an official account.
func NewStableTokens(appID, secret string, cache *TokenCache) *StableTokens {
	const prefix = "policybot"
	return &StableTokens{
		h:     credential.NewStableAccessToken(appID, secret, prefix, cache).(*credential.StableAccessToken),
		cache: cache,
		key:   fmt.Sprintf("%s_stable_access_token_%s", prefix, appID),
	}
}

// Token implements TokenSource.
func (s *StableTokens) Token(ctx context.Context) (string, error) {
	return s.h.GetAccessTokenContext(ctx)
}

// Refresh implements TokenSource: force_refresh, then cache.
func (s *StableTokens) Refresh(ctx context.Context) (string, error) {
	res, err := s.h.GetAccessTokenDirectly(ctx, true)
	if err != nil {
		return "", err
	}
	if err := s.cache.SetContext(ctx, s.key, res.AccessToken, time.Duration(res.ExpiresIn-300)*time.Second); err != nil {
		return "", err
	}
	return res.AccessToken, nil
}
