package knowledge

import (
	"archive/zip"
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// bombDocx is a small .docx whose document.xml expands to size bytes of
// one repeated paragraph (what issue 14.9 uploaded: 200 KB → 51 MB).
func bombDocx(t *testing.T, size int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("word/document.xml")
	w.Write([]byte(`<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>`))
	para := bytes.Repeat([]byte(`<w:p><w:r><w:t>第一条 低保对象每月领取补助金，由乡镇人民政府按月发放。</w:t></w:r></w:p>`), 8000)
	for n := 0; n < size; n += len(para) {
		w.Write(para)
	}
	w.Write([]byte(`</w:body></w:document>`))
	zw.Close()
	return buf.Bytes()
}

// Issue 14.9: a 200 KB .docx expanding to 51 MB took RSS to 1.9 GB and
// made 60,262 passages. Its text is capped and the file refused.
func TestZipBombIsRefused(t *testing.T) {
	bomb := bombDocx(t, 51<<20)
	if len(bomb) > 1<<20 {
		t.Fatalf("the bomb is %d bytes: not a bomb", len(bomb))
	}
	if _, err := DocumentText("炸弹.docx", bomb, 0); !errors.Is(err, ErrTooMuchText) {
		t.Fatalf("DocumentText = %v, want ErrTooMuchText", err)
	}
	dir := mustWrite(t, map[string][]byte{"炸弹.docx": bomb})
	b, problems, err := Load(Options{Dirs: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 1 || !strings.Contains(problems[0].Error(), "炸弹.docx") || !strings.Contains(problems[0].Error(), "文字太多") {
		t.Fatalf("problems = %v", problems)
	}
	if n := len(b.Passages()); n > 1000 {
		t.Fatalf("%d passages: the bomb was loaded", n)
	}
}

// The whole knowledge base is capped too: documents past the limit are
// reported by name and left out; those before it load.
func TestTotalTextIsCapped(t *testing.T) {
	big := strings.Repeat("第一条 救助对象按规定享受医疗救助。\n", 20000) // ~1 MB
	dir := mustWrite(t, map[string][]byte{"a.txt": []byte(big), "b.txt": []byte(big), "c.txt": []byte(big)})
	b, problems, err := Load(Options{Dirs: []string{dir}, NoDefault: true, MaxTotalText: 2500 << 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 1 || !strings.Contains(problems[0].File, "c.txt") || !errors.Is(problems[0].Err, ErrTooMuchText) {
		t.Fatalf("problems = %v", problems)
	}
	if len(b.Documents()) != 2 || b.TextSize() > 2500<<10 {
		t.Fatalf("%d documents, %d bytes", len(b.Documents()), b.TextSize())
	}
}

// english finds an English word (file endings and "Word" aside) in a reason meant
// for officials.
var english = regexp.MustCompile(`[A-Za-z]{4,}`)

// Officials' Windows machines write GBK: such a text file is read, and
// files that are no text are refused with a reason.
func TestDocumentTextEncodings(t *testing.T) {
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte("低保申请由户主向乡镇提出。"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := DocumentText("通知.txt", gbk, 0); err != nil || got != "低保申请由户主向乡镇提出。" {
		t.Fatalf("GBK text = %q, %v", got, err)
	}
	if got, err := DocumentText("通知.txt", []byte("\ufeff第一条"), 0); err != nil || got != "第一条" {
		t.Fatalf("UTF-8 with BOM = %q, %v", got, err)
	}
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(i*7919 + 13)
	}
	for name, data := range map[string][]byte{
		"随机.docx": random, "随机.txt": random, "空.txt": []byte("  \n"), "表.xls": []byte("x"),
	} {
		if _, err := DocumentText(name, data, 0); err == nil {
			t.Errorf("%s accepted", name)
		} else if english.MatchString(strings.NewReplacer(".docx", "", "Word", "").Replace(err.Error())) {
			t.Errorf("%s: the reason is not in Chinese: %v", name, err)
		}
	}
}

// A curated answer's figures must be in its source: 50元 where the
// document says 30元 is named; Chinese numerals are read as values.
func TestFiguresMissing(t *testing.T) {
	b := mustDefault(t)
	file := "000_0f4e317a7dc85b4e.txt"
	if m, ok := b.FiguresMissing(file, "下乡补助每天50元，按月发放"); !ok || len(m) != 1 || m[0] != "50元" {
		t.Fatalf("50元: %v %v", m, ok)
	}
	if m, _ := b.FiguresMissing(file, "下乡补助每天30元"); len(m) != 0 {
		t.Fatalf("30元 is in the document: %v", m)
	}
	if m, _ := b.FiguresMissing(file, "每月住村不少于二十天"); len(m) != 0 {
		t.Fatalf("二十天 is 20天 of the document: %v", m)
	}
	if m, _ := b.FiguresMissing(file, "每月住村不少于二十五天"); len(m) != 1 {
		t.Fatalf("二十五天: %v", m)
	}
	if _, ok := b.FiguresMissing("no-such-file.txt", "1元"); ok {
		t.Fatal("an unknown file was checked")
	}
}
