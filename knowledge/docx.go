package knowledge

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
)

// readDocx extracts the text of a .docx file (a zip of XML), one line per
// paragraph. Tabs and line breaks inside a paragraph become spaces. It
// returns an error for anything that is not a readable Word document, and
// stops at maxText bytes of text or maxDocxXML of XML (a zip bomb expands
// a few hundred KB into gigabytes).
func readDocx(data []byte, maxText int) (string, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return "", errors.New("不是 Word 文档（.docx 文件打不开，可能已损坏，或是旧的 .doc 改了名字）")
	}
	var body *zip.File
	for _, f := range zr.File {
		if f.Name == "word/document.xml" {
			body = f
		}
	}
	if body == nil {
		return "", errors.New("不是 Word 文档（里面没有正文）")
	}
	if body.UncompressedSize64 > maxDocxXML {
		return "", errDocxOver
	}
	rc, err := body.Open()
	if err != nil {
		return "", errors.New("Word 文档已损坏（正文打不开）")
	}
	defer rc.Close()
	lr := &io.LimitedReader{R: rc, N: maxDocxXML + 1} // the header's size may lie
	dec := xml.NewDecoder(lr)
	var out, para strings.Builder
	inText := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if lr.N <= 0 {
			return "", errDocxOver
		}
		if err != nil {
			return "", errors.New("Word 文档已损坏（正文读不通）")
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "t":
				inText = true
			case "tab", "br", "cr":
				para.WriteByte(' ')
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "t":
				inText = false
			case "p":
				out.WriteString(strings.TrimSpace(para.String()))
				out.WriteByte('\n')
				para.Reset()
			}
		case xml.CharData:
			if inText {
				para.Write(t)
				if out.Len()+para.Len() > maxText {
					return "", errTextOver(maxText) // stop reading: DocumentText would refuse it
				}
			}
		}
	}
	return out.String(), nil
}
