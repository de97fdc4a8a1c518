//go:build !unix

package docker

// folderID has no inode to go by here: "" keeps functions with host folders
// from sandboxes started ahead, which could mount a folder replaced since.
func folderID(string) string { return "" }
