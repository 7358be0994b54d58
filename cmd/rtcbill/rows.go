package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// rowReader reads the rows of a CSV or JSON Lines file, each a value per
// column name.
type rowReader interface {
	// next reads the next row and returns its line number. It returns
	// io.EOF after the last row, a malformedError for a row it cannot read
	// (the next call goes on with the row after it), and any other error
	// for a file it cannot go on reading.
	next() (line int, err error)
	// value returns the current row's value of a column, "" if absent.
	value(col string) string
}

// malformedError is a row that cannot be read or parsed. Its group is
// the same text for every row with the same defect, so rows group by it;
// value is the text at fault, if any.
type malformedError struct{ reason, value string }

// group returns the error's text without the value.
func (e malformedError) group() string { return "malformed: " + e.reason }

func (e malformedError) Error() string {
	if e.value == "" {
		return e.group()
	}
	return fmt.Sprintf("%s: %q", e.group(), e.value)
}

func malformed(format string, args ...any) error {
	return malformedError{reason: fmt.Sprintf(format, args...)}
}

// badValue is a malformed row whose column col holds value, which is not
// what it should be.
func badValue(col, value, what string) error {
	return malformedError{reason: col + " is " + what, value: value}
}

// fileFormat returns the format of path: "csv" or "jsonl", as flag says
// or else as its extension does.
func fileFormat(path, flag string) (string, error) {
	if flag == "" {
		switch strings.ToLower(filepath.Ext(path)) {
		case ".csv":
			flag = "csv"
		case ".jsonl", ".ndjson":
			flag = "jsonl"
		default:
			return "", usageErrorf("cannot tell the format of %s from its extension: give --format csv or jsonl", path)
		}
	}
	if flag != "csv" && flag != "jsonl" {
		return "", usageErrorf("--format: want csv or jsonl, not %q", flag)
	}
	return flag, nil
}

// columns are the columns of a kind of file.
type columns struct {
	all      []string
	required []string // those a CSV file's first line must name
}

// newRowReader returns a reader of r in format ("csv" or "jsonl"), whose
// columns are among cols.all. A CSV file's first line names its columns:
// one that names an unknown column, names one twice or misses a required
// one is refused.
func newRowReader(r io.Reader, format string, cols columns) (rowReader, error) {
	if format == "jsonl" {
		s := bufio.NewScanner(r)
		s.Buffer(make([]byte, 64<<10), 1<<20)
		return &jsonRows{s: s, cols: cols.all, row: make(map[string]string, len(cols.all))}, nil
	}
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty file: the first line names the columns")
		}
		return nil, fmt.Errorf("the first line, the columns: %w", err)
	}
	idx := make(map[string]int, len(header))
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff") // a byte order mark, as spreadsheets write
		}
		h = strings.ToLower(strings.TrimSpace(h))
		if !slices.Contains(cols.all, h) {
			return nil, fmt.Errorf("unknown column %q in the first line (the columns are %s)", h, strings.Join(cols.all, ", "))
		}
		if _, dup := idx[h]; dup {
			return nil, fmt.Errorf("column %q named twice in the first line", h)
		}
		idx[h] = i
	}
	for _, col := range cols.required {
		if _, ok := idx[col]; !ok {
			return nil, fmt.Errorf("no column %q in the first line (required: %s)", col, strings.Join(cols.required, ", "))
		}
	}
	return &csvRows{r: cr, idx: idx}, nil
}

type csvRows struct {
	r   *csv.Reader
	idx map[string]int
	rec []string
}

func (c *csvRows) next() (int, error) {
	rec, err := c.r.Read()
	c.rec = rec
	if err == nil {
		line, _ := c.r.FieldPos(0)
		return line, nil
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			return pe.StartLine, malformed("wrong number of fields")
		}
		return pe.StartLine, malformed("not CSV (%v)", pe.Err)
	}
	return 0, err
}

func (c *csvRows) value(col string) string {
	if i, ok := c.idx[col]; ok && i < len(c.rec) {
		return c.rec[i]
	}
	return ""
}

type jsonRows struct {
	s    *bufio.Scanner
	cols []string
	line int
	row  map[string]string
	raw  map[string]json.RawMessage
}

func (j *jsonRows) next() (int, error) {
	for j.s.Scan() {
		j.line++
		b := bytes.TrimSpace(j.s.Bytes())
		if len(b) == 0 {
			continue
		}
		clear(j.row)
		clear(j.raw)
		if err := json.Unmarshal(b, &j.raw); err != nil {
			return j.line, malformed("not a JSON object")
		}
		for k, v := range j.raw {
			if !slices.Contains(j.cols, k) {
				return j.line, malformed("unknown field %q", k)
			}
			switch {
			case bytes.Equal(v, []byte("null")):
			case len(v) > 0 && v[0] == '"':
				var s string
				if err := json.Unmarshal(v, &s); err != nil {
					return j.line, malformed("not a JSON object")
				}
				j.row[k] = s
			case len(v) > 0 && (v[0] == '-' || (v[0] >= '0' && v[0] <= '9')):
				j.row[k] = string(v)
			default:
				return j.line, malformed("field %q is neither a string nor a number", k)
			}
		}
		return j.line, nil
	}
	if err := j.s.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return j.line + 1, fmt.Errorf("line %d: longer than 1 MiB", j.line+1)
		}
		return 0, err
	}
	return 0, io.EOF
}

func (j *jsonRows) value(col string) string { return j.row[col] }

// intValue parses a whole number column; empty is zero unless required.
func intValue(r rowReader, col string, required bool) (int64, error) {
	s := r.value(col)
	if s == "" && !required {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, badValue(col, s, "not a whole number")
	}
	return n, nil
}
