package ziparchive

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Extract writes the zip into dir, which must exist. It never writes outside
// dir: the whole archive is validated first (nothing is written for an
// invalid one), every path is checked again as it is written, all writes go
// through an os.Root confined to dir, and symlinks are created only after
// every file, then resolved for real and removed again (failing the
// extraction) if one leads outside dir or does not resolve at all.
//
// Files keep their mode bits (the executable bit included); directories are
// 0755. On error dir may hold a partial tree; the caller removes it.
// Cancelling ctx stops the extraction between reads.
func Extract(ctx context.Context, r io.ReaderAt, size int64, dir string) error {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if _, err := validate(zr); err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("open extraction dir: %w", err)
	}
	defer root.Close()

	type link struct{ name, target string }
	var links []link
	for _, f := range zr.File {
		if err := ctx.Err(); err != nil {
			return err
		}
		// Checked again here so Extract stands on its own.
		name, err := entryPath(f.Name)
		if err != nil {
			return err
		}
		mode := f.Mode()
		switch {
		case mode.IsDir():
			if name != "." {
				if err := mkdirAll(root, name); err != nil {
					return err
				}
			}
		case mode&fs.ModeSymlink != 0:
			target, err := readLink(f)
			if err != nil {
				return err
			}
			if err := checkLink(f.Name, target); err != nil {
				return err
			}
			links = append(links, link{name, target})
		case mode.IsRegular():
			if err := writeFile(ctx, root, name, f); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%w: entry %q: unsupported file type %v", ErrInvalid, f.Name, mode.Type())
		}
	}

	// Symlinks last, so no file above was written through one of them.
	if len(links) == 0 {
		return nil
	}
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return fmt.Errorf("resolve extraction dir: %w", err)
	}
	created := 0
	fail := func(err error) error {
		// Best effort, newest first: leave no escaping link behind.
		for i := created - 1; i >= 0; i-- {
			_ = root.Remove(links[i].name)
		}
		return err
	}
	for _, l := range links {
		parent := path.Dir(l.name)
		if err := mkdirAll(root, parent); err != nil {
			return fail(err)
		}
		// A link must sit where its name says: refuse one whose parent
		// directory is reached through another symlink.
		wantParent := filepath.Join(realDir, filepath.FromSlash(parent))
		if got, err := filepath.EvalSymlinks(wantParent); err != nil || got != wantParent {
			return fail(fmt.Errorf("%w: symlink %q: parent directory is itself a symlink", ErrInvalid, l.name))
		}
		if err := root.Symlink(l.target, l.name); err != nil {
			return fail(fmt.Errorf("%w: symlink %q: %w", ErrInvalid, l.name, err))
		}
		created++
	}
	// A lexical check cannot see through links chained via other links, so
	// resolve each one on disk now that all exist.
	for _, l := range links {
		p, err := filepath.EvalSymlinks(filepath.Join(realDir, filepath.FromSlash(l.name)))
		if err != nil {
			return fail(fmt.Errorf("%w: symlink %q -> %q does not resolve inside the archive: %w", ErrInvalid, l.name, l.target, err))
		}
		if !within(realDir, p) {
			return fail(fmt.Errorf("%w: symlink %q -> %q resolves outside the archive root", ErrInvalid, l.name, l.target))
		}
	}
	return nil
}

func within(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// mkdirAll creates name and its parents as 0755 directories (exactly, not
// masked by the umask).
func mkdirAll(root *os.Root, name string) error {
	if name == "." || name == "" {
		return nil
	}
	parts := strings.Split(name, "/")
	for i := range parts {
		p := strings.Join(parts[:i+1], "/")
		err := root.Mkdir(p, 0o755)
		switch {
		case err == nil:
			if err := root.Chmod(p, 0o755); err != nil {
				return fmt.Errorf("chmod %q: %w", p, err)
			}
		case errors.Is(err, fs.ErrExist):
			fi, serr := root.Stat(p)
			if serr != nil {
				return fmt.Errorf("stat %q: %w", p, serr)
			}
			if !fi.IsDir() {
				return fmt.Errorf("%w: %q is both a file and a directory", ErrInvalid, p)
			}
		default:
			return fmt.Errorf("mkdir %q: %w", p, err)
		}
	}
	return nil
}

func writeFile(ctx context.Context, root *os.Root, name string, f *zip.File) error {
	if err := mkdirAll(root, path.Dir(name)); err != nil {
		return err
	}
	perm := f.Mode().Perm()
	if perm == 0 {
		perm = 0o644
	}
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("%w: entry %q: %w", ErrInvalid, f.Name, err)
	}
	defer rc.Close()
	out, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return fmt.Errorf("create %q: %w", name, err)
	}
	if err := copyCtx(ctx, out, rc); err != nil {
		out.Close()
		return fmt.Errorf("entry %q: %w", f.Name, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("write %q: %w", name, err)
	}
	// OpenFile's mode is masked by the umask; set it exactly.
	if err := root.Chmod(name, perm); err != nil {
		return fmt.Errorf("chmod %q: %w", name, err)
	}
	return nil
}

// copyCtx copies src to dst, checking ctx between reads. Read errors come
// from the archive (bad checksum, size mismatch) and wrap ErrInvalid.
func copyCtx(ctx context.Context, dst io.Writer, src io.Reader) error {
	buf := make([]byte, 64<<10)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, rerr := src.Read(buf)
		if n > 0 {
			if _, err := dst.Write(buf[:n]); err != nil {
				return fmt.Errorf("write: %w", err)
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return fmt.Errorf("%w: %w", ErrInvalid, rerr)
		}
	}
}
