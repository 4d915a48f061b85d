package knowledge

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Meta is the curated record kept beside a source file as NAME.meta.json.
// A file that holds several separate documents (a compilation) lists them in
// Documents, each starting at the first line that begins with Start.
type Meta struct {
	Title     string    `json:"title"`
	Number    string    `json:"number,omitempty"` // 文号
	Issuer    string    `json:"issuer,omitempty"`
	Date      string    `json:"date,omitempty"`
	Region    string    `json:"region,omitempty"`
	Note      string    `json:"note,omitempty"`
	Source    string    `json:"source,omitempty"`
	Headings  []string  `json:"headings,omitempty"` // extra lines to treat as top-level headings
	Documents []SubMeta `json:"documents,omitempty"`
}

// SubMeta describes one document inside a compilation file.
type SubMeta struct {
	Title  string `json:"title"`
	Number string `json:"number,omitempty"`
	Issuer string `json:"issuer,omitempty"`
	Date   string `json:"date,omitempty"`
	Region string `json:"region,omitempty"`
	Start  string `json:"start"`
}

// Document is one policy document: its metadata and its passages.
type Document struct {
	File     string // source file name, e.g. 000_0f4e317a7dc85b4e.txt
	Title    string
	Number   string
	Issuer   string
	Date     string
	Region   string
	Passages []*Passage
	citation string // Citation, computed once the base is built
}

// Citation renders the source as users see it: 《title》(文号, date).
func (d *Document) Citation() string {
	if d.citation != "" {
		return d.citation
	}
	return d.makeCitation()
}

func (d *Document) makeCitation() string {
	var extra []string
	if d.Number != "" {
		extra = append(extra, d.Number)
	}
	if d.Date != "" {
		extra = append(extra, displayDate(d.Date))
	}
	c := "《" + d.Title + "》"
	if len(extra) > 0 {
		c += "(" + strings.Join(extra, ",") + ")"
	}
	return c
}

// displayDate turns 2017-04-23 into 2017年4月23日; other forms pass through.
func displayDate(s string) string {
	var y, m, d int
	if n, _ := fmt.Sscanf(s, "%d-%d-%d", &y, &m, &d); n == 3 {
		return fmt.Sprintf("%d年%d月%d日", y, m, d)
	}
	if n, _ := fmt.Sscanf(s, "%d-%d", &y, &m); n == 2 {
		return fmt.Sprintf("%d年%d月", y, m)
	}
	if n, _ := fmt.Sscanf(s, "%d", &y); n == 1 && len(s) == 4 {
		return fmt.Sprintf("%d年", y)
	}
	return s
}

// parseMeta decodes a .meta.json record; unknown fields are an error so a
// typo in a curated record is caught when the base loads.
func parseMeta(data []byte) (*Meta, error) {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	var m Meta
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return &m, nil
}

// buildDocuments turns a file's text into its documents. With sub-documents
// in meta, the text is cut at each Start line; the text before the first
// start (if any) belongs to the file-level document.
func buildDocuments(file, text string, meta *Meta) []*Document {
	lines := cleanLines(text)
	if meta == nil {
		meta = &Meta{Title: guessTitle(file, lines)}
	}
	if len(meta.Documents) == 0 {
		d := &Document{File: file, Title: meta.Title, Number: meta.Number, Issuer: meta.Issuer, Date: meta.Date, Region: meta.Region}
		d.Passages = buildPassages(d, lines, meta.Headings)
		return []*Document{d}
	}
	var docs []*Document
	cut := 0
	cur := &Document{File: file, Title: meta.Title, Number: meta.Number, Issuer: meta.Issuer, Date: meta.Date, Region: meta.Region}
	next := 0
	flush := func(end int) {
		if end > cut {
			cur.Passages = buildPassages(cur, lines[cut:end], meta.Headings)
			if len(cur.Passages) > 0 {
				docs = append(docs, cur)
			}
		}
		cut = end
	}
	for i, l := range lines {
		if next < len(meta.Documents) && strings.HasPrefix(strings.TrimSpace(l), meta.Documents[next].Start) {
			flush(i)
			s := meta.Documents[next]
			cur = &Document{File: file, Title: s.Title, Number: s.Number, Issuer: firstNonEmpty(s.Issuer, meta.Issuer), Date: s.Date, Region: firstNonEmpty(s.Region, meta.Region)}
			next++
		}
	}
	flush(len(lines))
	return docs
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// guessTitle picks a title for a document without a metadata record: its
// first line when that looks like a title, else the file name.
func guessTitle(file string, lines []string) string {
	for _, l := range lines {
		l = strings.TrimSpace(strings.TrimLeft(l, "# "))
		if l == "" {
			continue
		}
		if n := len([]rune(l)); n <= 40 && !strings.ContainsAny(l, "。,，;；") {
			return l
		}
		break
	}
	name := file
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		name = name[:i]
	}
	return name
}
