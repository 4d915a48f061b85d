package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeWeChat answers the token, customer-service and template endpoints
// and counts what each openid received.
type fakeWeChat struct {
	mu       sync.Mutex
	received map[string][]string
}

func (f *fakeWeChat) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	switch {
	case strings.Contains(r.URL.Path, "token"):
		io.WriteString(w, `{"access_token":"T","expires_in":7200}`)
	case strings.HasSuffix(r.URL.Path, "/message/custom/send"), strings.HasSuffix(r.URL.Path, "/message/template/send"):
		var m struct {
			ToUser string `json:"touser"`
			Text   struct {
				Content string `json:"content"`
			} `json:"text"`
			Data map[string]map[string]string `json:"data"`
		}
		json.Unmarshal(body, &m)
		text := m.Text.Content
		if text == "" {
			text = fmt.Sprint(m.Data)
		}
		f.mu.Lock()
		f.received[m.ToUser] = append(f.received[m.ToUser], text)
		f.mu.Unlock()
		io.WriteString(w, `{"errcode":0,"errmsg":"ok","msgid":1}`)
	default:
		http.NotFound(w, r)
	}
}

// The flow of issue 6's "done": import the example workbook, invite a
// helper, the helper binds through the webhook, the dry run shows the
// reminders due on a chosen date, and a real run sends them through the
// (fake) API exactly once.
func TestRosterInviteBindRemind(t *testing.T) {
	fake := &fakeWeChat{received: map[string][]string{}}
	api := httptest.NewServer(fake)
	defer api.Close()
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "policybot.json")
	cfgJSON := fmt.Sprintf(`{"data_dir": %q, "wechat_token": "tok", "wechat_appid": "wxapp", "wechat_secret": "sec", "wechat_api_base": %q, "delivery_rate": 1000, "quiet_hours": "off"}`,
		filepath.Join(dir, "data"), api.URL)
	os.WriteFile(cfgFile, []byte(cfgJSON), 0o600)

	code, out, errOut := runCmd(t, "", "roster", "import", "--config", cfgFile, "../../roster/example.xlsx")
	if code != 0 || !strings.Contains(out, "imported 8 people, 9 pairings, 4 tasks") {
		t.Fatalf("import: %d %q %q", code, out, errOut)
	}
	if code, out, _ := runCmd(t, "", "roster", "import", "--config", cfgFile, "../../roster/example.xlsx"); code != 0 || !strings.Contains(out, "imported 8 people") {
		t.Fatalf("re-import: %d %q", code, out)
	}
	code, out, errOut = runCmd(t, "", "roster", "invite", "--config", cfgFile, "--phone", "13800000001")
	m := regexp.MustCompile(`王建国\s+13800000001\s+帮扶责任人\s+(\d{6})`).FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("invite: %d %q %q", code, out, errOut)
	}

	// the helper binds through the real webhook
	cfg, err := (&commonFlags{configFile: cfgFile}).load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	_, base, stop := runServer(t, cfg)
	if got := wechatPost(t, base, "tok", "oHelper", "绑定 "+m[1], fmt.Sprint(time.Now().UnixNano())); !strings.Contains(got, "绑定成功：王建国") {
		t.Fatalf("bind: %q", got)
	}
	if got := wechatPost(t, base, "tok", "oHelper", "已走访 张大山", fmt.Sprint(time.Now().UnixNano())); !strings.Contains(got, "1/3") {
		t.Fatalf("visit: %q", got)
	}
	stop() // the commands below need the data directory to themselves

	// the dry run on a chosen date: day 28, the helper has two households
	// left (张大山 was visited this month — if this month is November)
	at := time.Now().In(chinaTime()).Format("2006-01") + "-28T08:00:00+08:00"
	code, out, errOut = runCmd(t, "", "remind", "--config", cfgFile, "--dry-run", "--json", "--at", at, "--kind", "visit")
	if code != 0 {
		t.Fatalf("dry run: %d %q", code, errOut)
	}
	var planned []struct {
		Key, Kind, Text, OpenID string
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r struct{ Key, Kind, Text, OpenID string }
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("dry-run line %q: %v", line, err)
		}
		planned = append(planned, r)
	}
	helperReminders := 0
	for _, r := range planned {
		if r.OpenID == "oHelper" {
			helperReminders++
			if strings.Contains(r.Text, "张大山") {
				t.Errorf("a visited household is reminded: %s", r.Text)
			}
		}
	}
	if helperReminders != 2 { // 张小河 and 李老三: one message each, the stronger (issue 15.10)
		t.Errorf("the helper has %d reminders, want 2: %+v", helperReminders, planned)
	}
	fake.mu.Lock()
	if len(fake.received) != 0 {
		t.Errorf("the dry run sent something: %v", fake.received)
	}
	fake.mu.Unlock()

	// the real run sends them, exactly once
	for i := 0; i < 2; i++ {
		if code, out, errOut := runCmd(t, "", "remind", "--config", cfgFile, "--at", at, "--kind", "visit"); code != 0 {
			t.Fatalf("run %d: %d %q %q", i, code, out, errOut)
		}
	}
	fake.mu.Lock()
	got := len(fake.received["oHelper"])
	fake.mu.Unlock()
	if got != 2 {
		t.Errorf("the helper received %d messages, want 2 (once each): %v", got, fake.received)
	}
	if code, out, _ := runCmd(t, "", "deliveries", "--config", cfgFile); code != 0 || strings.Count(out, "sent") < 2 {
		t.Errorf("deliveries: %d %q", code, out)
	}
}

func chinaTime() *time.Location {
	l, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return l
}
