package api

import (
	"net/http"
	"time"
)

// Hot-reload layers: PublishLayerVersion with Content S3Bucket "hot-reload"
// and S3Key a folder on lamb's host (LocalStack Pro's feature). The folder
// holds the layer unzipped (python/, nodejs/node_modules/, bin/, lib/, ...).
// Functions using the version run it in place and are reloaded when it
// changes, as for code (hot_reload.go); on Docker such a layer must be the
// function's only one (it is bind-mounted at /opt), as on LocalStack.

// publishHotReloadLayer is PublishLayerVersion for Content that is not a zip:
// a hot-reload folder, or S3 code lamb cannot fetch.
func (s *Server) publishHotReloadLayer(w http.ResponseWriter, r *http.Request, c *call, sc scope, name string, in *publishLayerVersionInput) error {
	dir, err := s.hotReloadFolder(in.Content.S3Bucket, in.Content.S3Key, len(in.Content.ZipFile) > 0)
	if err != nil {
		return err
	}
	l := &layerVersionRecord{
		Account: sc.Account, Region: sc.Region, Name: name,
		Description: in.Description, LicenseInfo: in.LicenseInfo,
		CompatibleRuntimes: in.CompatibleRuntimes, CompatibleArchitectures: in.CompatibleArchitectures,
		CodeSHA256: hotReloadCodeSHA256, CodeDir: dir,
		CreatedDate: time.Now(),
	}
	err = s.recordLayerVersion(r.Context(), sc, name, l)
	if err != nil {
		return err
	}
	return reply(w, c, l.response(""))
}

// hotReloadLayerLocation is Content.Location of a hot-reload layer version,
// LocalStack's answer for code in a folder.
func hotReloadLayerLocation(l *layerVersionRecord) string { return "Code location: " + l.CodeDir }
