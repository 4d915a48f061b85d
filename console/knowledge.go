package console

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"
	"time"

	"policybot/handlers"
	"policybot/knowledge"
)

type docRow struct {
	File, Title, Number string
	Passages            int
	Added               bool // added here (may be deleted here)
}

type knowledgeData struct {
	Docs []docRow
	FAQs []knowledge.FAQ
	// Vocab are the vocabulary files added here (*stopwords.txt,
	// *cues.txt, *units.txt): no passages, but they change how questions
	// are read.
	Vocab []string
}

func (c *Console) knowledgeData(r *http.Request) knowledgeData {
	var d knowledgeData
	added := map[string]bool{}
	if names, err := c.Knowledge.Files(r.Context()); err == nil {
		for _, n := range names {
			added[n] = true
			if knowledge.IsVocabularyFile(n) {
				d.Vocab = append(d.Vocab, n)
			}
		}
	}
	for _, doc := range c.KB().Documents() {
		d.Docs = append(d.Docs, docRow{File: doc.File, Title: doc.Title, Number: doc.Number, Passages: len(doc.Passages), Added: added[doc.File]})
	}
	d.FAQs, _ = c.Knowledge.FAQs(r.Context())
	return d
}

func (c *Console) knowledgePage(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, "knowledge.html", "知识库", c.knowledgeData(r), "", "")
}

func (c *Console) docPage(w http.ResponseWriter, r *http.Request) {
	file := r.URL.Query().Get("file")
	var ps []*knowledge.Passage
	title := file
	for _, doc := range c.KB().Documents() {
		if doc.File == file {
			ps = append(ps, doc.Passages...)
			title = doc.Title
		}
	}
	if ps == nil {
		http.NotFound(w, r)
		return
	}
	c.render(w, r, "doc.html", title, ps, "", "")
}

// reloadWait is how long a page waits for the knowledge base to be
// rebuilt before it answers that the rebuild goes on in the background
// (the server's write timeout is 10 s).
const reloadWait = 5 * time.Second

// reloaded rebuilds the knowledge base and shows the knowledge page with
// flash (what was done, in effect now). A rebuild that takes longer than
// reloadWait finishes in the background, and the page says what was
// saved (what) and that it takes effect shortly.
func (c *Console) reloaded(w http.ResponseWriter, r *http.Request, flash, what string) {
	if c.Reload != nil {
		done := make(chan error, 1)
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 2*time.Minute)
		go func() { defer cancel(); done <- c.Reload(ctx) }()
		select {
		case err := <-done:
			if err != nil {
				c.log().Error("console: knowledge reload", "err", err)
				c.render(w, r, "knowledge.html", "知识库", c.knowledgeData(r), "", "已保存，但知识库没能重新加载，请稍后刷新再看；问题仍在请联系技术人员")
				return
			}
		case <-time.After(reloadWait):
			flash = "已保存" + what + "。知识库正在后台重建，一两分钟内生效"
		}
	}
	c.render(w, r, "knowledge.html", "知识库", c.knowledgeData(r), flash, "")
}

func (c *Console) upload(w http.ResponseWriter, r *http.Request) {
	f, hdr, err := r.FormFile("file")
	if err != nil {
		c.render(w, r, "knowledge.html", "知识库", c.knowledgeData(r), "", "请选择文件（.txt、.md 或 .docx）")
		return
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, handlers.MaxKBFile+1))
	if err != nil || len(data) > handlers.MaxKBFile {
		c.render(w, r, "knowledge.html", "知识库", c.knowledgeData(r), "", fmt.Sprintf("文件太大（最多 %d MB）", handlers.MaxKBFile>>20))
		return
	}
	name := path.Base(strings.ReplaceAll(hdr.Filename, "\\", "/"))
	ctx := r.Context()
	if knowledge.IsVocabularyFile(name) {
		// a word list, not a document: checked as the knowledge base will read it
		if err := knowledge.CheckVocabularyFile(name, data); err != nil {
			c.render(w, r, "knowledge.html", "知识库", c.knowledgeData(r), "", fmt.Sprintf("词表《%s》没有加入：%v", name, err))
			return
		}
	}
	// read it now as the knowledge base will: a file that cannot be read,
	// or would take the base over its limit, is refused with the reason
	text, err := knowledge.DocumentText(name, data, 0)
	if err != nil {
		c.render(w, r, "knowledge.html", "知识库", c.knowledgeData(r), "", fmt.Sprintf("《%s》没有加入知识库：%v", name, err))
		return
	}
	if c.KB != nil {
		kb := c.KB()
		old, _ := kb.FileText(name) // a file replaced by its new version
		if total := kb.TextSize() - len(old) + len(text); total > kb.MaxTotalText() {
			c.render(w, r, "knowledge.html", "知识库", c.knowledgeData(r), "", fmt.Sprintf("《%s》没有加入知识库：知识库的文字已接近上限（%d MB），请先删除不再用的文件", name, kb.MaxTotalText()>>20))
			return
		}
	}
	if err := c.Knowledge.PutFile(ctx, name, data); err != nil {
		c.render(w, r, "knowledge.html", "知识库", c.knowledgeData(r), "", err.Error())
		return
	}
	meta := map[string]string{}
	for _, k := range []string{"title", "number", "issuer", "date", "region"} {
		if v := strings.TrimSpace(r.FormValue(k)); v != "" {
			meta[k] = v
		}
	}
	if len(meta) > 0 {
		b, _ := json.Marshal(meta)
		if err := c.Knowledge.PutFile(ctx, strings.TrimSuffix(name, path.Ext(name))+".meta.json", b); err != nil {
			c.render(w, r, "knowledge.html", "知识库", c.knowledgeData(r), "", err.Error())
			return
		}
	}
	handlers.Audit(ctx, c.Store, state(r).user.Name, "kb_upload", name, c.now())
	c.reloaded(w, r, "已加入知识库："+name, "《"+name+"》")
}

func (c *Console) deleteDoc(w http.ResponseWriter, r *http.Request) {
	name := r.FormValue("file")
	ctx := r.Context()
	names, _ := c.Knowledge.Files(ctx)
	found := false
	for _, n := range names {
		found = found || n == name
	}
	if !found {
		c.render(w, r, "knowledge.html", "知识库", c.knowledgeData(r), "", "只能删除在这里加入的文件")
		return
	}
	if err := c.Knowledge.DeleteFile(ctx, name); err != nil {
		c.render(w, r, "knowledge.html", "知识库", c.knowledgeData(r), "", err.Error())
		return
	}
	handlers.Audit(ctx, c.Store, state(r).user.Name, "kb_delete", name, c.now())
	c.reloaded(w, r, "已删除："+name, "（删除《"+name+"》）")
}

type faqFormData struct {
	FAQ   knowledge.FAQ
	Lines string
	Docs  []docRow
	// Clash is another FAQ with one of these questions: the page warns
	// and offers to replace it.
	Clash *knowledge.FAQ
}

func (c *Console) faqForm(w http.ResponseWriter, r *http.Request) {
	d := faqFormData{Docs: c.knowledgeData(r).Docs}
	if id := r.URL.Query().Get("id"); id != "" {
		faqs, _ := c.Knowledge.FAQs(r.Context())
		for _, f := range faqs {
			if f.ID == id {
				d.FAQ = f
			}
		}
	}
	if q := strings.TrimSpace(r.URL.Query().Get("q")); q != "" { // from the unanswered queue
		d.FAQ.Questions = append(d.FAQ.Questions, q)
	}
	d.Lines = strings.Join(d.FAQ.Questions, "\n")
	c.render(w, r, "faq.html", "FAQ", d, "", "")
}

func (c *Console) faqSave(w http.ResponseWriter, r *http.Request) {
	var qs []string
	for _, l := range strings.Split(r.FormValue("questions"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			qs = append(qs, l)
		}
	}
	f := knowledge.FAQ{ID: strings.TrimSpace(r.FormValue("id")), Questions: qs, Answer: strings.TrimSpace(r.FormValue("answer")),
		File: r.FormValue("file"), Section: strings.TrimSpace(r.FormValue("section"))}
	if f.ID == "" {
		f.ID = "console-" + token()[:10]
	}
	fail := func(msg string) {
		d := faqFormData{FAQ: f, Lines: strings.Join(qs, "\n"), Docs: c.knowledgeData(r).Docs}
		c.render(w, r, "faq.html", "FAQ", d, "", msg)
	}
	// a curated answer states no figure its source lacks: 50元 where the
	// document says 30元 would reach villagers under a real citation
	if c.KB != nil && f.File != "" {
		if missing, ok := c.KB().FiguresMissing(f.File, f.Answer); ok && len(missing) > 0 {
			fail(fmt.Sprintf("答案里的「%s」在所选的出处文件里找不到，没有保存。请对照原文改正数字，或选对出处文件。", strings.Join(missing, "」「")))
			return
		}
	}
	// a second FAQ for the same question would answer instead of the
	// first, or not at all: warn, and replace only when asked to
	if others, err := c.Knowledge.FAQs(r.Context()); err == nil {
		replace := r.FormValue("replace")
		for _, o := range others {
			if o.ID == f.ID || !sameQuestion(o.Questions, qs) {
				continue
			}
			if replace != o.ID {
				d := faqFormData{FAQ: f, Lines: strings.Join(qs, "\n"), Docs: c.knowledgeData(r).Docs, Clash: &o}
				c.render(w, r, "faq.html", "FAQ", d, "", "已经有一条 FAQ（「"+firstQuestion(o)+"」）回答同样的问题，没有保存。要用这一条替换它，请点下面的「替换原来的」。")
				return
			}
			if err := c.Knowledge.DeleteFAQ(r.Context(), o.ID); err != nil {
				fail(err.Error())
				return
			}
		}
	}
	if err := c.Knowledge.PutFAQ(r.Context(), f); err != nil {
		fail(err.Error())
		return
	}
	handlers.Audit(r.Context(), c.Store, state(r).user.Name, "faq_save", strings.Join(qs, " / "), c.now())
	c.reloaded(w, r, "FAQ 已保存并生效：「"+firstQuestion(f)+"」", " FAQ「"+firstQuestion(f)+"」")
}

// sameQuestion reports whether two FAQs share a question (as people type
// it: width, punctuation and spaces folded).
func sameQuestion(a, b []string) bool {
	seen := map[string]bool{}
	for _, q := range a {
		seen[strings.Trim(knowledge.Normalize(q), "?？。.!！")] = true
	}
	for _, q := range b {
		if seen[strings.Trim(knowledge.Normalize(q), "?？。.!！")] {
			return true
		}
	}
	return false
}

func (c *Console) faqDelete(w http.ResponseWriter, r *http.Request) {
	id := r.FormValue("id")
	named := id
	if fs, err := c.Knowledge.FAQs(r.Context()); err == nil {
		for _, f := range fs {
			if f.ID == id {
				named = "「" + firstQuestion(f) + "」"
			}
		}
	}
	if err := c.Knowledge.DeleteFAQ(r.Context(), id); err != nil {
		c.render(w, r, "knowledge.html", "知识库", c.knowledgeData(r), "", err.Error())
		return
	}
	handlers.Audit(r.Context(), c.Store, state(r).user.Name, "faq_delete", named, c.now())
	c.reloaded(w, r, "FAQ 已删除："+named, "（删除 FAQ "+named+"）")
}

// firstQuestion names a FAQ entry as officials know it: by its first
// question (its id is for the system only).
func firstQuestion(f knowledge.FAQ) string {
	if len(f.Questions) == 0 {
		return f.ID
	}
	return f.Questions[0]
}
