// Package ziparchive validates and safely extracts Lambda code zips
// (function code and layers).
//
// Validate rejects archives AWS would not run and archives that try to write
// outside their root ("zip-slip"): absolute paths, paths that climb out with
// "..", and symlinks pointing outside the root. Extract repeats every check
// itself, so it is safe even when Validate was not called.
//
// An archive with no entries is valid (Info{Files: 0}): AWS accepts an
// empty zip for CreateFunction; the function then fails at invoke time with
// the runtime's own error (e.g. Runtime.ImportModuleError).
//
// Functions here are safe for concurrent use; they keep no state.
package ziparchive

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
)

// MaxUnzippedSize is AWS's limit on the unzipped size of a function's code
// (and, separately, of each layer): 250 MB.
const MaxUnzippedSize int64 = 262144000

// ErrInvalid is wrapped by every error about the archive's content; callers
// translate it to AWS's InvalidParameterValueException.
var ErrInvalid = errors.New("invalid zip archive")

// ErrTooLarge is returned when the unzipped size exceeds MaxUnzippedSize.
// It wraps ErrInvalid. AWS's message is "Unzipped size must be smaller than
// 262144000 bytes".
var ErrTooLarge = fmt.Errorf("%w: unzipped size must be smaller than %d bytes", ErrInvalid, MaxUnzippedSize)

// maxLinkTarget bounds how much of a symlink entry is read as its target.
const maxLinkTarget = 4096

// Info summarises a valid archive.
type Info struct {
	Files        int   // entries that are not directories
	UnzippedSize int64 // sum of the entries' uncompressed sizes
}

// Validate checks the zip: a readable central directory, supported
// compression methods, no entry with an absolute path or one that climbs out
// with "..", no symlink pointing outside the root (absolute target or climbing
// out), no device/pipe/socket entries, and the total unzipped size.
func Validate(r io.ReaderAt, size int64) (Info, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return Info{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return validate(zr)
}

func validate(zr *zip.Reader) (Info, error) {
	var info Info
	for _, f := range zr.File {
		if _, err := entryPath(f.Name); err != nil {
			return Info{}, err
		}
		if f.Method != zip.Store && f.Method != zip.Deflate {
			return Info{}, fmt.Errorf("%w: entry %q: unsupported compression method %d", ErrInvalid, f.Name, f.Method)
		}
		mode := f.Mode()
		switch {
		case mode.IsDir():
			continue
		case mode&fs.ModeSymlink != 0:
			target, err := readLink(f)
			if err != nil {
				return Info{}, err
			}
			if err := checkLink(f.Name, target); err != nil {
				return Info{}, err
			}
		case !mode.IsRegular():
			return Info{}, fmt.Errorf("%w: entry %q: unsupported file type %v", ErrInvalid, f.Name, mode.Type())
		}
		info.Files++
		if f.UncompressedSize64 > uint64(MaxUnzippedSize) {
			return Info{}, fmt.Errorf("entry %q: %w", f.Name, ErrTooLarge)
		}
		info.UnzippedSize += int64(f.UncompressedSize64)
		if info.UnzippedSize > MaxUnzippedSize {
			return Info{}, ErrTooLarge
		}
	}
	return info, nil
}

// entryPath returns the cleaned, slash-separated relative path of an entry,
// or an error if it is absolute or leaves the root. Backslashes count as
// separators, as unzip treats them, so "..\\evil" is caught too.
func entryPath(name string) (string, error) {
	n := strings.ReplaceAll(name, `\`, "/")
	if n == "" || strings.HasPrefix(n, "/") || (len(n) >= 2 && n[1] == ':') {
		return "", fmt.Errorf("%w: entry %q: absolute path", ErrInvalid, name)
	}
	if strings.ContainsRune(n, 0) {
		return "", fmt.Errorf("%w: entry %q: NUL in name", ErrInvalid, name)
	}
	clean := path.Clean(n)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("%w: entry %q: path leaves the archive root", ErrInvalid, name)
	}
	return clean, nil
}

// checkLink rejects a symlink whose target is absolute or, resolved lexically
// from the link's directory, climbs out of the root.
func checkLink(name, target string) error {
	t := strings.ReplaceAll(target, `\`, "/")
	if t == "" || strings.HasPrefix(t, "/") {
		return fmt.Errorf("%w: symlink %q -> %q: target outside the archive root", ErrInvalid, name, target)
	}
	clean, _ := entryPath(name) // already checked by the caller
	resolved := path.Join(path.Dir(clean), t)
	if resolved == ".." || strings.HasPrefix(resolved, "../") {
		return fmt.Errorf("%w: symlink %q -> %q: target outside the archive root", ErrInvalid, name, target)
	}
	return nil
}

func readLink(f *zip.File) (string, error) {
	if f.UncompressedSize64 > maxLinkTarget {
		return "", fmt.Errorf("%w: symlink %q: target too long", ErrInvalid, f.Name)
	}
	rc, err := f.Open()
	if err != nil {
		return "", fmt.Errorf("%w: entry %q: %w", ErrInvalid, f.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxLinkTarget+1))
	if err != nil {
		return "", fmt.Errorf("%w: entry %q: %w", ErrInvalid, f.Name, err)
	}
	return string(b), nil
}
