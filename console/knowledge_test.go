package console

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"policybot/handlers"
	"policybot/knowledge"
)

// withKnowledge gives the test console a knowledge base that reloads
// with what the store holds, as serve's does.
func withKnowledge(t *testing.T, e *env) {
	t.Helper()
	kbs := handlers.KBStore{Records: e.store, Counters: e.store}
	var cur atomic.Pointer[knowledge.Base]
	reload := func(ctx context.Context) error {
		extra, err := kbs.FS(ctx)
		if err != nil {
			return err
		}
		kb, _, err := knowledge.Load(knowledge.Options{Extra: extra})
		if err != nil {
			return err
		}
		cur.Store(kb)
		return nil
	}
	if err := reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.console.Knowledge, e.console.KB, e.console.Reload = kbs, cur.Load, reload
}

func uploadDoc(t *testing.T, e *env, name string, data []byte) string {
	t.Helper()
	c := client(t)
	login(t, e, c, "admin", "correct horse battery")
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf", csrfOf(t, c, e.srv.URL+"/admin/knowledge"))
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.Close()
	resp, err := c.Post(e.srv.URL+"/admin/knowledge/upload", mw.FormDataContentType(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// Issue 14.9 (and 15.2): a zip bomb, random bytes as .docx and an empty
// file are refused on the page, named, with the reason in Chinese, and
// nothing is stored; a GBK text file is read.
func TestUploadIsCheckedBeforeItIsStored(t *testing.T) {
	e := newEnv(t)
	withKnowledge(t, e)
	var bomb bytes.Buffer
	zw := zip.NewWriter(&bomb)
	w, _ := zw.Create("word/document.xml")
	w.Write([]byte("<w:document><w:body>"))
	chunk := bytes.Repeat([]byte("<w:p><w:r><w:t>低保补助按月发放</w:t></w:r></w:p>"), 1<<20/48)
	for n := 0; n < 51<<20; n += len(chunk) {
		w.Write(chunk)
	}
	w.Write([]byte("</w:body></w:document>"))
	zw.Close()
	for name, data := range map[string][]byte{
		"炸弹.docx": bomb.Bytes(),
		"乱码.docx": bytes.Repeat([]byte{0x13, 0x37, 0xfe}, 1000),
		"空白.txt":  []byte("\n\n"),
	} {
		page := uploadDoc(t, e, name, data)
		if !strings.Contains(page, "《"+name+"》没有加入知识库：") {
			t.Errorf("%s: the page does not say it failed:\n%.600s", name, page)
		}
		if _, err := e.store.GetRecord(context.Background(), handlers.KindKBFile, name); err == nil {
			t.Errorf("%s was stored", name)
		}
	}
	gbk, _ := simplifiedchinese.GBK.NewEncoder().Bytes([]byte("某县临时救助办法\n第一条 临时救助由乡镇人民政府受理，急难情形可先行救助。\n"))
	page := uploadDoc(t, e, "临时救助.txt", gbk)
	if !strings.Contains(page, "已加入知识库：临时救助.txt") {
		t.Fatalf("GBK upload:\n%.600s", page)
	}
	if a := e.console.KB().Answer("临时救助找谁受理"); !a.Answered || !strings.Contains(a.Text, "乡镇人民政府") {
		t.Fatalf("the GBK document does not answer: %+v", a)
	}
}

// Issue 15.1: an FAQ saying 50元 under a document that says 30元 was saved
// and answered villagers. It is refused with the figure named.
func TestFAQFiguresMustBeInTheSource(t *testing.T) {
	e := newEnv(t)
	withKnowledge(t, e)
	c := client(t)
	login(t, e, c, "admin", "correct horse battery")
	save := func(answer string) string {
		_, page, _ := post(t, c, e.srv.URL+"/admin/knowledge/faq", url.Values{"csrf": {csrfOf(t, c, e.srv.URL+"/admin/knowledge/faq")},
			"questions": {"下乡补助一天多少钱"}, "answer": {answer}, "file": {"000_0f4e317a7dc85b4e.txt"}})
		return page
	}
	page := save("下乡补助每天50元，按月发放")
	if !strings.Contains(page, "答案里的「50元」在所选的出处文件里找不到") {
		t.Fatalf("the wrong figure was not named:\n%.800s", page)
	}
	if ids, _ := e.store.ListRecords(context.Background(), handlers.KindKBFAQ, "", 0); len(ids) != 0 {
		t.Fatalf("the FAQ was stored: %v", ids)
	}
	if page := save("下乡补助每天30元"); !strings.Contains(page, "FAQ 已保存并生效") {
		t.Fatalf("a right figure was refused:\n%.800s", page)
	}
}

// Issue 15.13: the queue of unanswered questions groups the same question,
// names documents by title, cuts long messages with a way to expand, lets
// an admin dismiss chit-chat, and drops a question once an FAQ answers it.
func TestUnansweredQueue(t *testing.T) {
	e := newEnv(t)
	withKnowledge(t, e)
	ctx := context.Background()
	log := handlers.StoreUnanswered{Records: e.store}
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, handlers.ChinaTime())
	long := strings.Repeat("我们家的情况比较复杂", 10) + "能不能申请？"
	for i, q := range []string{"村里的光伏电站收益怎么分", "村里的光伏电站收益怎么分", "哈哈哈你好呀", long} {
		log.RecordUnanswered(ctx, handlers.UnansweredQuestion{Time: at.Add(time.Duration(i) * time.Minute), User: "u", Question: q, Score: 0.2,
			Closest: "000_0f4e317a7dc85b4e.txt › 三、整改措施"})
	}
	c := client(t)
	login(t, e, c, "admin", "correct horse battery")
	_, page, _ := get(t, c, e.srv.URL+"/admin/unanswered")
	if strings.Count(page, "村里的光伏电站收益怎么分</td><td>2</td>") != 1 {
		t.Errorf("the same question twice is not one line with 2:\n%.3000s", page)
	}
	if strings.Contains(page, "000_0f4e317a7dc85b4e.txt") || !strings.Contains(page, "《汨罗市脱贫攻坚突出问题集中整改方案》 › 三、整改措施") {
		t.Errorf("the closest passage is not named by its document's title")
	}
	if !strings.Contains(page, "<details><summary>") {
		t.Errorf("a long question is not cut with a way to expand")
	}
	// dismiss the chit-chat
	m := regexp.MustCompile(`name="ids" value="([^"]+)"><input type="hidden" name="q" value="哈哈哈你好呀"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no 忽略 for the chit-chat")
	}
	post(t, c, e.srv.URL+"/admin/unanswered/dismiss", url.Values{"csrf": {csrfOf(t, c, e.srv.URL+"/admin/unanswered")}, "ids": {m[1]}, "q": {"哈哈哈你好呀"}})
	if _, page, _ = get(t, c, e.srv.URL+"/admin/unanswered"); strings.Contains(page, "哈哈哈你好呀") {
		t.Error("a dismissed question is still listed")
	}
	// an FAQ for it: the question leaves the queue
	post(t, c, e.srv.URL+"/admin/knowledge/faq", url.Values{"csrf": {csrfOf(t, c, e.srv.URL+"/admin/knowledge/faq")},
		"questions": {"村里的光伏电站收益怎么分"}, "answer": {"光伏电站收益按村里公示的分配方案发放。"}, "file": {"000_0f4e317a7dc85b4e.txt"}})
	if _, page, _ = get(t, c, e.srv.URL+"/admin/unanswered"); strings.Contains(page, "村里的光伏电站收益怎么分") {
		t.Error("a question an FAQ now answers is still listed")
	}
}

// Issue 15.1: a second FAQ for the same question warns and offers to
// replace the first; replacing leaves one.
func TestSecondFAQForTheSameQuestion(t *testing.T) {
	e := newEnv(t)
	withKnowledge(t, e)
	c := client(t)
	login(t, e, c, "admin", "correct horse battery")
	save := func(v url.Values) string {
		v.Set("csrf", csrfOf(t, c, e.srv.URL+"/admin/knowledge/faq"))
		v.Set("file", "000_0f4e317a7dc85b4e.txt")
		_, page, _ := post(t, c, e.srv.URL+"/admin/knowledge/faq", v)
		return page
	}
	if page := save(url.Values{"id": {"a"}, "questions": {"光伏收益怎么分"}, "answer": {"按村里公示的方案分。"}}); !strings.Contains(page, "FAQ 已保存") {
		t.Fatalf("first FAQ:\n%.600s", page)
	}
	page := save(url.Values{"id": {"b"}, "questions": {"光伏收益怎么分？"}, "answer": {"按村民代表大会决定分。"}})
	if !strings.Contains(page, "已经有一条 FAQ（「光伏收益怎么分」）") || !strings.Contains(page, "替换原来的") {
		t.Fatalf("no warning:\n%.800s", page)
	}
	if ids, _ := e.store.ListRecords(context.Background(), handlers.KindKBFAQ, "", 0); len(ids) != 1 {
		t.Fatalf("%d FAQs after the warning", len(ids))
	}
	save(url.Values{"id": {"b"}, "questions": {"光伏收益怎么分？"}, "answer": {"按村民代表大会决定分。"}, "replace": {"a"}})
	if ids, _ := e.store.ListRecords(context.Background(), handlers.KindKBFAQ, "", 0); len(ids) != 1 || ids[0] != "b" {
		t.Fatalf("after replacing: %v", ids)
	}
}

// Issue 13.4: an official teaches the bot a dialect's words from the
// console; a broken word list is refused with its line, nothing stored.
func TestVocabularyFileFromTheConsole(t *testing.T) {
	e := newEnv(t)
	withKnowledge(t, e)
	page := uploadDoc(t, e, "坏cues.txt", []byte("[日期]\n啥子时候\n"))
	if !strings.Contains(page, "词表《坏cues.txt》没有加入") || !strings.Contains(page, "第 1 行") {
		t.Fatalf("a broken word list was not refused with its line:\n%s", page)
	}
	if names, _ := e.console.Knowledge.Files(context.Background()); len(names) != 0 {
		t.Fatalf("a refused word list was stored: %v", names)
	}
	page = uploadDoc(t, e, "方言cues.txt", []byte("[date]\n啥子时候\n"))
	if !strings.Contains(page, "词表（1 个）") || !strings.Contains(page, "方言cues.txt") {
		t.Fatalf("the word list is not listed:\n%s", page)
	}
	kb := e.console.KB()
	if a := kb.Answer("低保金啥子时候发"); a.Features.Typed == 0.5 {
		t.Errorf("啥子时候 is still not read as asking for a date: %+v", a.Features)
	}
}
