package vfs

import "context"

// Client is Files bound to one client id: the capsim.File methods without
// the id, as an IPC proxy has them. It implements FileAPI.
type Client struct {
	f  *Files
	id uint32
}

var _ FileAPI = (*Client)(nil)

// Client returns the view of f that client id has.
func (f *Files) Client(id uint32) *Client { return &Client{f: f, id: id} }

// Open is Files.Open for c's client.
func (c *Client) Open(ctx context.Context, path string, flags, mode uint32) (int32, error) {
	return c.f.Open(ctx, c.id, path, flags, mode)
}

// Read is Files.Read for c's client.
func (c *Client) Read(ctx context.Context, fd int32, size uint32) ([]byte, error) {
	return c.f.Read(ctx, c.id, fd, size)
}

// Write is Files.Write for c's client.
func (c *Client) Write(ctx context.Context, fd int32, data []byte) (uint32, error) {
	return c.f.Write(ctx, c.id, fd, data)
}

// PRead is Files.PRead for c's client.
func (c *Client) PRead(ctx context.Context, fd int32, size uint32, offset uint64) ([]byte, error) {
	return c.f.PRead(ctx, c.id, fd, size, offset)
}

// PWrite is Files.PWrite for c's client.
func (c *Client) PWrite(ctx context.Context, fd int32, data []byte, offset uint64) (uint32, error) {
	return c.f.PWrite(ctx, c.id, fd, data, offset)
}

// Close is Files.Close for c's client.
func (c *Client) Close(ctx context.Context, fd int32) error { return c.f.Close(ctx, c.id, fd) }

// Stat is Files.Stat for c's client.
func (c *Client) Stat(ctx context.Context, path string) (FileStat, error) {
	return c.f.Stat(ctx, c.id, path)
}

// FStat is Files.FStat for c's client.
func (c *Client) FStat(ctx context.Context, fd int32) (FileStat, error) {
	return c.f.FStat(ctx, c.id, fd)
}

// ReadDir is Files.ReadDir for c's client.
func (c *Client) ReadDir(ctx context.Context, fd int32, max uint32) ([]DirEntry, error) {
	return c.f.ReadDir(ctx, c.id, fd, max)
}

// MkDir is Files.MkDir for c's client.
func (c *Client) MkDir(ctx context.Context, path string, mode uint32) error {
	return c.f.MkDir(ctx, c.id, path, mode)
}

// Unlink is Files.Unlink for c's client.
func (c *Client) Unlink(ctx context.Context, path string, flags uint32) error {
	return c.f.Unlink(ctx, c.id, path, flags)
}

// Rename is Files.Rename for c's client.
func (c *Client) Rename(ctx context.Context, from, to string) error {
	return c.f.Rename(ctx, c.id, from, to)
}

// Truncate is Files.Truncate for c's client.
func (c *Client) Truncate(ctx context.Context, path string, size uint64) error {
	return c.f.Truncate(ctx, c.id, path, size)
}

// FSync is Files.FSync for c's client.
func (c *Client) FSync(ctx context.Context, fd int32) error { return c.f.FSync(ctx, c.id, fd) }

// Drop closes everything c's client has open.
func (c *Client) Drop() error { return c.f.Drop(c.id) }
