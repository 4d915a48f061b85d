package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/util"

	"policybot/console"
	"policybot/handlers"
	"policybot/quiz"
	"policybot/store/redisstore"
)

// startServer runs `serve` on a random port until the test ends.
func startServer(t *testing.T, cfg Config) (base string, token string) {
	t.Helper()
	base, token, _ = startServerWithStore(t, cfg)
	return base, token
}

// runServer runs `serve` with cfg on a random port. stop shuts it down
// and reports a failed shutdown; the test's end stops it if nobody did.
func runServer(t *testing.T, cfg Config) (s *server, base string, stop func()) {
	t.Helper()
	cfg.Listen = "127.0.0.1:0"
	if cfg.MetricsListen == defaultConfig().MetricsListen {
		cfg.MetricsListen = "127.0.0.1:0"
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s, err := newServer(cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("shutdown: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return s, "http://" + s.ln.Addr().String(), stop
}

// startServerWithStore also returns the server's store (for assertions).
func startServerWithStore(t *testing.T, cfg Config) (base, token string, storeOf func(*testing.T) handlers.Store) {
	t.Helper()
	s, base, _ := runServer(t, cfg)
	token = cfg.WeChatToken
	if cfg.LocalMode() {
		var c struct{ Token string }
		getJSON(t, base+"/simulator/config", &c)
		token = c.Token
	}
	return base, token, func(*testing.T) handlers.Store { return s.store }
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// wechatPost signs and posts a text message as WeChat does.
func wechatPost(t *testing.T, base, token, user, text, msgID string) string {
	t.Helper()
	ts := fmt.Sprint(time.Now().Unix())
	nonce := "e2e" + msgID
	q := url.Values{"timestamp": {ts}, "nonce": {nonce}, "signature": {util.Signature(token, ts, nonce)}, "openid": {user}}
	body := fmt.Sprintf(`<xml><ToUserName><![CDATA[gh_e2e]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName><CreateTime>%s</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[%s]]></Content><MsgId>%s</MsgId></xml>`, user, ts, text, msgID)
	resp, err := http.Post(base+"/wechat?"+q.Encode(), "text/xml", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	var r struct{ Content string }
	if err := xml.Unmarshal(b, &r); err != nil {
		return string(b) // "success"
	}
	return r.Content
}

func e2e(t *testing.T, cfg Config) {
	srv, base, _ := runServer(t, cfg)
	token := cfg.WeChatToken
	if cfg.LocalMode() {
		var c struct{ Token string }
		getJSON(t, base+"/simulator/config", &c)
		token = c.Token
	}
	storeOf := func(*testing.T) handlers.Store { return srv.store }
	got := wechatPost(t, base, token, "userA", "驻村干部一个月得在村里待几天", "1000001")
	if !strings.Contains(got, "20天") || !strings.Contains(got, "来源:《汨罗市脱贫攻坚突出问题集中整改方案》") {
		t.Fatalf("answer = %q", got)
	}
	// an unanswerable question sent three times (WeChat's retries): one
	// answer, and its side effect (the unanswered-question record) once
	var replies []string
	id := fmt.Sprint(time.Now().UnixNano())
	for i := 0; i < 3; i++ {
		replies = append(replies, wechatPost(t, base, token, "userB", "退耕还林一亩地补多少钱", id))
		retryPause()
	}
	if replies[0] != replies[1] || replies[1] != replies[2] || !strings.Contains(replies[0], "没有找到") {
		t.Fatalf("replies = %q", replies)
	}
	st := storeOf(t)
	ids, err := st.ListRecords(context.Background(), handlers.KindUnanswered, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, id := range ids {
		if b, _ := st.GetRecord(context.Background(), handlers.KindUnanswered, id); strings.Contains(string(b), "退耕还林") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("the unanswered question was recorded %d times", n)
	}
	quizEndToEnd(t, base, token, st)
	metrics := "http://" + srv.mln.Addr().String()
	for url, want := range map[string]string{base + "/healthz": "ok", base + "/readyz": "ok: store " + cfg.Store,
		metrics + "/metrics": "policybot_wechat_dedup_hits_total 4", base + "/metrics": "404 page not found"} {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.HasPrefix(want, "404") != (resp.StatusCode == 404) || !strings.Contains(string(b), want) {
			t.Errorf("%s = %d, lacks %q", url, resp.StatusCode, want)
		}
	}
}

// retryPause stands for the time before WeChat retries (5 s in reality):
// the reply is cached for retries just after it is written, in a batch,
// so a copy sent the same instant may get the plain "success" instead.
func retryPause() { time.Sleep(150 * time.Millisecond) }

// quizEndToEnd plays a round through the real webhook: 答题, an answer
// retried by WeChat (same MsgId three times) is graded and recorded once.
func quizEndToEnd(t *testing.T, base, token string, st handlers.Store) {
	t.Helper()
	id := time.Now().UnixNano()
	got := wechatPost(t, base, token, "quizzer", "答题", fmt.Sprint(id))
	if !strings.Contains(got, "第 1/5 题") {
		t.Fatalf("答题 = %q", got)
	}
	qs, _ := quiz.Shipped()
	var q quiz.Question
	for _, c := range qs {
		if strings.Contains(got, "\n"+c.Stem+"\n") || strings.Contains(got, c.Stem) {
			q = c
		}
	}
	if q.ID == "" {
		t.Fatalf("no known question in %q", got)
	}
	var replies []string
	for i := 0; i < 3; i++ {
		replies = append(replies, wechatPost(t, base, token, "quizzer", q.Answer, fmt.Sprint(id+1)))
		retryPause()
	}
	if replies[0] != replies[1] || replies[1] != replies[2] || !strings.Contains(replies[0], "答对了") || !strings.Contains(replies[0], "第 2/5 题") {
		t.Fatalf("answer replies = %q", replies)
	}
	hits, err := st.RangeRecords(context.Background(), handlers.KindQuizAnswer, "day", "", "", 0)
	if err != nil || len(hits) != 1 {
		t.Fatalf("%d answer records (%v), want 1", len(hits), err)
	}
}

func TestServeEndToEndEmbedded(t *testing.T) {
	cfg := defaultConfig()
	cfg.DataDir = t.TempDir()
	e2e(t, cfg)
}

func TestServeEndToEndRedis(t *testing.T) {
	u := os.Getenv("POLICYBOT_TEST_REDIS_URL")
	if u == "" {
		u = "redis://127.0.0.1:6379/0"
	}
	cfg := defaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.Store, cfg.RedisURL = "redis", u
	var b [6]byte
	rand.Read(b[:])
	cfg.RedisPrefix = "policybot-test:e2e:" + hex.EncodeToString(b[:]) + ":"
	st, err := openStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Ping(context.Background()); err != nil {
		st.Close()
		if os.Getenv("CI") != "" {
			t.Fatalf("Redis required in CI: %v", err)
		}
		t.Skipf("no Redis: %v", err)
	}
	t.Cleanup(func() {
		c := st.(*redisstore.Store).Client()
		ctx := context.Background()
		iter := c.Scan(ctx, 0, cfg.RedisPrefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		st.Close()
	})
	e2e(t, cfg)
}

func TestSimulatorIsServedOnlyInLocalMode(t *testing.T) {
	cfg := defaultConfig()
	cfg.DataDir = t.TempDir()
	base, token := startServer(t, cfg)
	resp, _ := http.Get(base + "/simulator")
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "function sha1") {
		t.Fatalf("simulator page = %d", resp.StatusCode)
	}
	// issue 15.5: 「人工」 in local mode promises no reply nobody can give
	if got := wechatPost(t, base, token, "userLocal", "人工", "55501"); !strings.Contains(got, "本地试用模式") || strings.Contains(got, "请稍候") {
		t.Errorf("人工 in local mode: %q", got)
	}

	cfg = defaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.WeChatToken, cfg.WeChatAppID, cfg.WeChatSecret = "realtoken", "wxreal", "secret"
	base, _ = startServer(t, cfg)
	resp, _ = http.Get(base + "/simulator/config")
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("a configured account exposes the simulator (and its token): %d", resp.StatusCode)
	}
}

func TestWeChatSettingsAreValidated(t *testing.T) {
	tests := map[string]map[string]string{
		"appid without token":  {"POLICYBOT_WECHAT_APPID": "wx1", "POLICYBOT_WECHAT_SECRET": "s"},
		"appid without secret": {"POLICYBOT_WECHAT_TOKEN": "t", "POLICYBOT_WECHAT_APPID": "wx1"},
		"short aes key":        {"POLICYBOT_WECHAT_TOKEN": "t", "POLICYBOT_WECHAT_APPID": "wx1", "POLICYBOT_WECHAT_SECRET": "s", "POLICYBOT_WECHAT_AES_KEY": "short"},
		"budget over 4.5s":     {"POLICYBOT_WECHAT_BUDGET": "5s"},
		"bad log level":        {"POLICYBOT_LOG_LEVEL": "chatty"},
	}
	for name, env := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := (&commonFlags{}).load(func(k string) string { return env[k] }); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	c, err := (&commonFlags{}).load(func(k string) string {
		return map[string]string{"POLICYBOT_WECHAT_MAX_SKEW": "120", "POLICYBOT_LISTEN": "0.0.0.0:9000"}[k]
	})
	if err != nil || time.Duration(c.WeChatMaxSkew) != 120*time.Second || c.Listen != "0.0.0.0:9000" || !c.LocalMode() {
		t.Fatalf("config = %+v, %v", c, err)
	}
}

// fakeModel is an OpenAI-compatible endpoint answering with reply, or
// stalling when reply is "".
func fakeModel(t *testing.T, reply string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // so that a client that gives up cancels r.Context()
		if reply == "" {
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		b, _ := json.Marshal(map[string]any{"choices": []map[string]any{{"index": 0, "delta": map[string]string{"content": reply}}}})
		fmt.Fprintf(w, "data: %s\n\ndata: [DONE]\n\n", b)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/v1"
}

// Issue 13.7: `ask` goes through the bot's path, model included: with
// POLICYBOT_LLM_* set it calls the model and prints its grounded answer.
func TestAskUsesTheConfiguredModel(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		b, _ := json.Marshal(map[string]any{"choices": []map[string]any{{"index": 0, "delta": map[string]string{"content": "四类人员是财政供养人员、有小汽车户、有商品房或商铺户、个体工商户或经商办企业户。"}}}})
		fmt.Fprintf(w, "data: %s\n\ndata: [DONE]\n\n", b)
	}))
	defer srv.Close()
	t.Setenv("POLICYBOT_LLM_BASE_URL", srv.URL+"/v1")
	t.Setenv("POLICYBOT_LLM_MODEL", "fake")
	t.Setenv("POLICYBOT_LLM_API_KEY", "sk-x")
	code, out, errOut := runCmd(t, "", "ask", "--json", "--data-dir", t.TempDir(), "四类人员有哪些")
	if code != 0 {
		t.Fatalf("ask: %d %s", code, errOut)
	}
	if calls.Load() == 0 || !strings.Contains(out, "四类人员是财政供养人员") || !strings.Contains(out, "来源") {
		t.Fatalf("the model was not used (%d calls): %s", calls.Load(), out)
	}
}

// With a model configured, the reply is the model's when grounded; a
// stalled model costs the person nothing but the wait for the passive
// budget: the extractive answer goes out in time. (Curated FAQ answers
// are never rewritten; the question here is not one.)
func TestServeWithModel(t *testing.T) {
	for name, c := range map[string]struct {
		reply, want string
	}{
		"grounded": {"每个贫困村要培养3到5名致富带头人。", "每个贫困村要培养3到5名致富带头人。\n来源:《县贫困村创业致富带头人培训实施方案》"},
		"invented": {"每个贫困村要培养15名致富带头人。", "每个贫困村培养3-5名致富带头人"},
		"stalled":  {"", "每个贫困村培养3-5名致富带头人"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := defaultConfig()
			cfg.DataDir = t.TempDir()
			cfg.LLMBaseURL, cfg.LLMModel, cfg.LLMAPIKey = fakeModel(t, c.reply), "fake", "sk-x"
			cfg.LLMPassive = Duration(time.Second)
			base, token := startServer(t, cfg)
			start := time.Now()
			got := wechatPost(t, base, token, "u-"+name, "每个贫困村培养几名致富带头人", fmt.Sprint(time.Now().UnixNano()))
			if !strings.Contains(got, c.want) || strings.Contains(got, "15名") {
				t.Errorf("reply %q, want it to contain %q", got, c.want)
			}
			if took := time.Since(start); took > 3*time.Second || name == "stalled" && took < 900*time.Millisecond {
				t.Errorf("took %s (the passive budget is 1 s)", took)
			}
		})
	}
}

// The console's loop: a question the bot cannot answer shows up in the
// unanswered queue, an official adds it as an FAQ, and the bot answers
// it at once, without a restart.
func TestConsoleFAQFromUnanswered(t *testing.T) {
	s, base := localServerWithAdmin(t)
	ctx := context.Background()
	var sim struct{ Token string }
	getJSON(t, base+"/simulator/config", &sim)
	q := "村里的光伏电站收益怎么分"
	if got := wechatPost(t, base, sim.Token, "villager", q, "77001"); !strings.Contains(got, "没有找到") {
		t.Fatalf("the bot knew it already: %q", got)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	csrf := func(path string) string {
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(b)
		if m == nil {
			t.Fatalf("no form on %s: %s", path, b)
		}
		return string(m[1])
	}
	resp, err := c.PostForm(base+"/admin/login", url.Values{"csrf": {csrf("/admin/login")}, "user": {"wang"}, "password": {"a long enough password"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, _ = c.Get(base + "/admin/unanswered")
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), q) || !strings.Contains(string(page), "添加为 FAQ") {
		t.Fatalf("unanswered queue:\n%s", page)
	}
	resp, err = c.PostForm(base+"/admin/knowledge/faq", url.Values{"csrf": {csrf("/admin/knowledge/faq?q=" + url.QueryEscape(q))},
		"questions": {q + "\n光伏收益怎么分配"}, "answer": {"光伏电站收益按村里公示的分配方案发放，具体请问村委会。"}, "file": {"000_0f4e317a7dc85b4e.txt"}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "FAQ 已保存并生效") && !strings.Contains(string(page), "知识库正在后台重建") {
		t.Fatalf("save FAQ:\n%s", page)
	}
	// in effect at once, or (a slow machine: the rebuild went on in the
	// background) within a few seconds
	var got string
	for i := 0; i < 40; i++ {
		if got = wechatPost(t, base, sim.Token, "villager", "光伏收益怎么分配", fmt.Sprint(77002+i)); strings.Contains(got, "按村里公示的分配方案") {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if !strings.Contains(got, "按村里公示的分配方案") {
		t.Errorf("the bot does not use the new FAQ: %q", got)
	}
	entries, _ := handlers.RecentAudit(ctx, s.store, 10)
	if len(entries) == 0 || entries[0].Action != "faq_save" {
		t.Errorf("audit %+v", entries)
	}
}

// localServerWithAdmin runs serve on its local-mode defaults (a fresh data
// directory, a random port) with a console admin "wang", until the test
// ends.
func localServerWithAdmin(t *testing.T) (*server, string) {
	t.Helper()
	cfg := defaultConfig()
	cfg.DataDir = t.TempDir()
	s, base, _ := runServer(t, cfg)
	if err := console.CreateUser(context.Background(), s.store, console.User{Name: "wang", Role: console.RoleAdmin}, "a long enough password"); err != nil {
		t.Fatal(err)
	}
	return s, base
}

// Issue 15.3: in local mode the simulator can be the demo staff (the
// example roster, bound), and what is pushed to them — here a notice a
// 责任领导 sends from chat — arrives in their simulator outbox.
func TestSimulatorDemoStaffReceivePushedMessages(t *testing.T) {
	cfg := defaultConfig()
	cfg.DataDir, cfg.QuietHours = t.TempDir(), "off"
	base, token := startServer(t, cfg)
	var c struct {
		Users []struct{ OpenID, Label string }
	}
	getJSON(t, base+"/simulator/config", &c)
	if len(c.Users) != 3 || c.Users[2].OpenID != "demo-leader" {
		t.Fatalf("demo users: %+v", c.Users)
	}
	if got := wechatPost(t, base, token, "demo-leader", "通知 全镇帮扶干部：周五交走访记录", "88801"); !strings.Contains(got, "确认发送") {
		t.Fatalf("preview: %q", got)
	}
	if got := wechatPost(t, base, token, "demo-leader", "确认发送", "88802"); !strings.Contains(got, "已发出") {
		t.Fatalf("send: %q", got)
	}
	var msgs []string
	for i := 0; i < 40 && len(msgs) == 0; i++ {
		time.Sleep(250 * time.Millisecond)
		getJSON(t, base+"/simulator/outbox?user=demo-helper", &msgs)
	}
	if len(msgs) != 1 || !strings.Contains(msgs[0], "周五交走访记录") {
		t.Fatalf("the helper's simulator got %q", msgs)
	}
}
