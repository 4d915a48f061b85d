package knowledge

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
)

func TestEmbeddedCorpusIsCurated(t *testing.T) {
	b := mustDefault(t)
	files := map[string]int{}
	for _, d := range b.Documents() {
		files[d.File]++
		if d.Title == "" {
			t.Errorf("%s: document without a title", d.File)
		}
		for _, p := range d.Passages {
			for _, debris := range []string{"返回首页", "客户端下载", "米乐app官方", "编辑:", "文档为doc格式", "序论:"} {
				if strings.Contains(p.Text, debris) {
					t.Errorf("%s: web debris %q left in passage %q", d.File, debris, p.Text)
				}
			}
		}
	}
	for _, f := range []string{"000_0f4e317a7dc85b4e.txt", "001_2cc691355be2174d.txt", "002_7f4e662bb716b1da.txt", "003_33f1e043d24211de.txt", "004_b530ba5c5fc5fc4c.txt"} {
		if files[f] == 0 {
			t.Errorf("%s: not loaded", f)
		}
	}
	if files["002_7f4e662bb716b1da.txt"] != 10 {
		t.Errorf("002 (a compilation of ten plans) split into %d documents, want 10", files["002_7f4e662bb716b1da.txt"])
	}
	// every metadata record parses strictly
	entries, _ := fs.ReadDir(embedded, "corpus")
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".meta.json") {
			data, _ := fs.ReadFile(embedded, "corpus/"+e.Name())
			if _, err := parseMeta(data); err != nil {
				t.Errorf("%s: %v", e.Name(), err)
			}
		}
	}
}

func TestCitationCarriesNumberAndDate(t *testing.T) {
	b := mustDefault(t)
	for _, d := range b.Documents() {
		if d.File == "000_0f4e317a7dc85b4e.txt" {
			if got, want := d.Citation(), "《汨罗市脱贫攻坚突出问题集中整改方案》(汨扶发〔2017〕14号,2017年4月23日)"; got != want {
				t.Errorf("Citation() = %q, want %q", got, want)
			}
			return
		}
	}
	t.Fatal("document 000 not found")
}

func TestBrokenFilesAreReportedAndSkipped(t *testing.T) {
	dir := mustWrite(t, map[string][]byte{
		"good.txt":         []byte("一、好文件\n村里的好政策是每户发一本口袋书。"),
		"broken.docx":      []byte("this is not a zip file"),
		"nodocument.docx":  makeZipWithout(t),
		"latin1.txt":       {0xc4, 0xe3, 0xba, 0xc3, 0x00}, // GBK bytes and a NUL: not UTF-8 text
		"bad.meta.json":    []byte(`{"title": "x", "typo_field": 1}`),
		"bad.txt":          []byte("有一个坏的元数据文件。"),
		"bad.faq.json":     []byte(`[{"id": "f1", "questions": []}]`),
		"bad-synonyms.txt": []byte("孤零零\n"),
	})
	b, problems, err := Load(Options{NoDefault: true, Dirs: []string{dir, dir + "/missing"}})
	if err != nil {
		t.Fatalf("Load failed although good.txt is fine: %v", err)
	}
	var names []string
	for _, p := range problems {
		names = append(names, p.File[strings.LastIndexAny(p.File, "/\\")+1:])
		if p.Err == nil {
			t.Errorf("%s: problem without a reason", p.File)
		}
	}
	got := strings.Join(names, ",")
	for _, want := range []string{"broken.docx", "nodocument.docx", "latin1.txt", "bad.txt", "bad.faq.json", "bad-synonyms.txt", "missing"} {
		if !strings.Contains(got, want) {
			t.Errorf("problem for %s not reported (got %s)", want, got)
		}
	}
	if len(b.Documents()) != 1 || b.Documents()[0].File != "good.txt" {
		t.Errorf("documents loaded: %v", b.Documents())
	}
}

func makeZipWithout(t *testing.T) []byte {
	t.Helper()
	d := makeDocx(t, "x")
	// rename word/document.xml inside the archive to something else
	return []byte(strings.Replace(string(d), "word/document.xml", "word/somethin.xml", -1))
}

func TestNothingLoadedIsAnError(t *testing.T) {
	_, _, err := Load(Options{NoDefault: true, Dirs: []string{t.TempDir()}})
	if err == nil {
		t.Fatal("Load of an empty folder without the default corpus succeeded")
	}
}

func TestDocxIsReadAndAnswered(t *testing.T) {
	dir := mustWrite(t, map[string][]byte{
		"养殖补助.docx": makeDocx(t, "某县养殖补助办法", "一、补助标准", "每养一头能繁母牛补助800元。", "二、申请程序", "由村委会统一申报。"),
	})
	b, problems, err := Load(Options{Dirs: []string{dir}})
	if err != nil || len(problems) > 0 {
		t.Fatalf("load: %v %v", err, problems)
	}
	var doc *Document
	for _, d := range b.Documents() {
		if d.File == "养殖补助.docx" {
			doc = d
		}
	}
	if doc == nil {
		t.Fatal("docx document not loaded")
	}
	if doc.Title != "某县养殖补助办法" {
		t.Errorf("title = %q", doc.Title)
	}
	a := b.Answer("养一头能繁母牛补助多少钱")
	if !a.Answered || !strings.Contains(a.Text, "800元") || a.Sources[0].File != "养殖补助.docx" || a.Sources[0].Section != "一、补助标准" {
		t.Errorf("answer from docx = %+v", a)
	}
}

func TestReadDocxRejectsGarbage(t *testing.T) {
	tests := map[string][]byte{
		"truncated zip":    []byte("PK\x03\x04 truncated"),
		"no document.xml":  zipOf(map[string]string{"word/other.xml": "<x/>"}),
		"unterminated XML": zipOf(map[string]string{"word/document.xml": "<w:document><w:body><w:p>"}),
		"not XML at all":   zipOf(map[string]string{"word/document.xml": "<<<>>>"}),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := readDocx(data, DefaultMaxDocumentText); err == nil {
				t.Errorf("readDocx accepted %s", name)
			}
		})
	}
	text, err := readDocx(makeDocx(t, "第一段", "第二段"), DefaultMaxDocumentText)
	if err != nil || text != "第一段\n第二段\n" {
		t.Errorf("readDocx = %q, %v", text, err)
	}
}

func TestProblemErrorNamesTheFile(t *testing.T) {
	p := Problem{File: "kb/x.docx", Err: errors.New("boom")}
	if !strings.Contains(p.Error(), "kb/x.docx") {
		t.Errorf("Problem.Error() = %q", p.Error())
	}
}

func TestShippedFAQQuotesItsDocuments(t *testing.T) {
	b := mustDefault(t)
	if b.FAQCount() == 0 {
		t.Fatal("no FAQ shipped")
	}
	texts := map[string]string{}
	for _, d := range b.Documents() {
		for _, p := range d.Passages {
			texts[d.File] += p.Section() + p.Text
		}
	}
	for _, e := range b.faq {
		body := e.Answer
		if i := strings.Index(body, ":"); i >= 0 && i < 150 {
			body = body[i+1:] // an introductory clause of our own before the colon
		}
		for _, s := range splitSentences(body) {
			if !strings.Contains(texts[e.File], s) {
				t.Errorf("FAQ %s: %q is not in %s", e.ID, s, e.File)
			}
		}
		if e.Title == "" {
			t.Errorf("FAQ %s: no title resolved", e.ID)
		}
	}
}

// Knowledge kept elsewhere (the console's documents and FAQ) loads from a
// MemFS like a folder.
func TestLoadExtraMemFS(t *testing.T) {
	extra := MemFS{
		"console.faq.json": []byte(`[{"id":"tuigeng","questions":["退耕还林一亩补多少钱"],"answer":"按本县方案，每亩补助见村委会公示。","file":"000_0f4e317a7dc85b4e.txt"}]`),
		"本村公告.txt":         []byte("本村公告\n一、饮水\n本村自来水每天早上六点到晚上十点供水，停水会提前一天通知。"),
		"broken.faq.json":  []byte(`not json`),
	}
	b, problems, err := Load(Options{Extra: extra})
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 1 || !strings.Contains(problems[0].File, "store:broken.faq.json") {
		t.Errorf("problems %v", problems)
	}
	if a := b.Answer("退耕还林一亩补多少钱"); !a.Answered || a.FAQ != "tuigeng" {
		t.Errorf("FAQ from the store: %+v", a)
	}
	if a := b.Answer("本村自来水几点供水"); !a.Answered || !strings.Contains(a.Text, "六点") {
		t.Errorf("document from the store: %+v", a)
	}
	if _, ok := b.FileText("本村公告.txt"); !ok {
		t.Error("FileText misses the store's document")
	}
}
