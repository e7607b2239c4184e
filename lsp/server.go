// Package lsp is flash-lsp's language server: the protocol layer on
// go.lsp.dev/protocol and jsonrpc2 over stdio. It keeps the editor's open
// buffers, asks the analysis engine (package analysis/engine, shared with
// `flash-lsp check` and `generate`) to bring each module up to date in a
// background goroutine after every edit (a newer edit cancels older work),
// and turns the resulting snapshot into diagnostics, quick fixes, hovers,
// completions, definitions and workspace symbols. Positions are converted
// to UTF-16 in one place, mapper.go.
package lsp

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/flash-lsp/flash-lsp/analysis/engine"
	"github.com/flash-lsp/flash-lsp/analysis/model"
)

// Options configure a Server.
type Options struct {
	// Version is reported to the client in serverInfo.
	Version string
	// Log receives the server's log; nil discards it. It must not be the
	// protocol's stdout.
	Log io.Writer
}

// Server is one language-server session.
type Server struct {
	opts    Options
	log     *log.Logger
	conn    jsonrpc2.Conn
	methods map[string]methodFunc
	reqs    requests
	state   atomic.Int32

	ctx    context.Context // cancelled when the session ends
	cancel context.CancelFunc

	exitOnce sync.Once
	exited   chan struct{}
	exitCode int

	// testHook, when set, runs before each message is dispatched.
	testHook func(ctx context.Context, method string)

	mu           sync.Mutex
	folders      []string
	docs         map[string]*document // by filename
	modules      map[string]*moduleState
	watchDynamic bool // the client registers file watchers dynamically
	// docChanges: the client takes versioned documentChanges in a
	// WorkspaceEdit (workspace.workspaceEdit.documentChanges).
	docChanges bool
}

// document is an open buffer.
type document struct {
	uri      protocol.DocumentURI
	filename string
	version  int32
	text     []byte
}

// New returns a server; Run serves one session with it.
func New(opts Options) *Server {
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	s := &Server{
		opts:    opts,
		log:     log.New(opts.Log, "flash-lsp: ", log.LstdFlags|log.Lmicroseconds),
		exited:  make(chan struct{}),
		docs:    make(map[string]*document),
		modules: make(map[string]*moduleState),
	}
	s.methods = map[string]methodFunc{
		protocol.MethodInitialize:                         s.initialize,
		protocol.MethodInitialized:                        s.initialized,
		protocol.MethodShutdown:                           s.shutdown,
		protocol.MethodTextDocumentDidOpen:                s.didOpen,
		protocol.MethodTextDocumentDidChange:              s.didChange,
		protocol.MethodTextDocumentDidClose:               s.didClose,
		protocol.MethodTextDocumentDidSave:                s.didSave,
		protocol.MethodWorkspaceDidChangeWatchedFiles:     s.didChangeWatchedFiles,
		protocol.MethodWorkspaceDidChangeWorkspaceFolders: s.didChangeWorkspaceFolders,
		protocol.MethodTextDocumentCodeAction:             s.codeAction,
		protocol.MethodWorkspaceExecuteCommand:            s.executeCommand,
		protocol.MethodTextDocumentHover:                  s.hover,
		protocol.MethodTextDocumentCompletion:             s.completion,
		protocol.MethodTextDocumentDefinition:             s.definition,
		protocol.MethodWorkspaceSymbol:                    s.symbol,
	}
	return s
}

// Run serves one session on rwc until the client sends exit or closes the
// stream, and returns the process exit code: 0 after shutdown and exit, 1
// otherwise.
func (s *Server) Run(ctx context.Context, rwc io.ReadWriteCloser) int {
	s.ctx, s.cancel = context.WithCancel(ctx)
	defer s.cancel()
	s.conn = jsonrpc2.NewConn(newStream(rwc, s.log))
	s.conn.Go(s.ctx, s.cancelHandler(s.queueHandler(s.guard)))
	select {
	case <-s.exited:
		s.conn.Close()
		s.awaitConnDone()
		return s.exitCode
	case <-s.conn.Done():
		if err := s.conn.Err(); err != nil && !isEOF(err) {
			s.log.Printf("connection closed: %v", err)
		}
		select {
		case <-s.exited:
			return s.exitCode
		default:
		}
		return 1
	case <-ctx.Done():
		s.conn.Close()
		return 1
	}
}

func isEOF(err error) bool {
	return err == io.EOF || strings.Contains(err.Error(), "EOF") || strings.Contains(err.Error(), "closed")
}

func (s *Server) exit() {
	s.exitOnce.Do(func() {
		if s.state.Load() == stateShutdown {
			s.exitCode = 0
		} else {
			s.exitCode = 1
		}
		s.cancel()
		close(s.exited)
	})
}

// notify sends a notification to the client.
func (s *Server) notify(method string, params any) {
	if err := s.conn.Notify(context.Background(), method, params); err != nil {
		s.log.Printf("%s: %v", method, err)
	}
}

func (s *Server) showMessage(typ protocol.MessageType, msg string) {
	s.notify(protocol.MethodWindowShowMessage, &protocol.ShowMessageParams{Type: typ, Message: msg})
}

func (s *Server) initialize(ctx context.Context, raw json.RawMessage) (any, error) {
	// Only what the server uses is decoded: clients send capabilities of
	// later protocol versions whose shapes go.lsp.dev/protocol v0.12.0
	// does not know, and a mismatch there must not fail initialize.
	var params struct {
		RootPath         string                     `json:"rootPath"`
		RootURI          protocol.DocumentURI       `json:"rootUri"`
		WorkspaceFolders []protocol.WorkspaceFolder `json:"workspaceFolders"`
		Capabilities     struct {
			Workspace struct {
				DidChangeWatchedFiles struct {
					DynamicRegistration bool `json:"dynamicRegistration"`
				} `json:"didChangeWatchedFiles"`
				WorkspaceEdit struct {
					DocumentChanges bool `json:"documentChanges"`
				} `json:"workspaceEdit"`
			} `json:"workspace"`
		} `json:"capabilities"`
	}
	if err := decode(raw, &params); err != nil {
		s.state.Store(stateNew)
		return nil, err
	}
	s.mu.Lock()
	s.watchDynamic = params.Capabilities.Workspace.DidChangeWatchedFiles.DynamicRegistration
	s.docChanges = params.Capabilities.Workspace.WorkspaceEdit.DocumentChanges
	for _, f := range params.WorkspaceFolders {
		if p, err := uriToPath(protocol.DocumentURI(f.URI)); err == nil {
			s.folders = append(s.folders, p)
		}
	}
	if len(s.folders) == 0 && params.RootURI != "" {
		if p, err := uriToPath(params.RootURI); err == nil {
			s.folders = append(s.folders, p)
		}
	}
	if len(s.folders) == 0 && params.RootPath != "" {
		s.folders = append(s.folders, params.RootPath)
	}
	s.mu.Unlock()

	return &protocol.InitializeResult{
		Capabilities: protocol.ServerCapabilities{
			TextDocumentSync: &protocol.TextDocumentSyncOptions{
				OpenClose: true,
				Change:    protocol.TextDocumentSyncKindFull,
				Save:      &protocol.SaveOptions{IncludeText: false},
			},
			CodeActionProvider: &protocol.CodeActionOptions{
				CodeActionKinds: []protocol.CodeActionKind{protocol.QuickFix, generateKind},
			},
			ExecuteCommandProvider: &protocol.ExecuteCommandOptions{Commands: []string{generateCommand, deployPlanCommand}},
			HoverProvider:          true,
			CompletionProvider: &protocol.CompletionOptions{
				TriggerCharacters: []string{" ", "="},
			},
			DefinitionProvider:      true,
			WorkspaceSymbolProvider: true,
			Workspace: &protocol.ServerCapabilitiesWorkspace{
				WorkspaceFolders: &protocol.ServerCapabilitiesWorkspaceFolders{
					Supported:           true,
					ChangeNotifications: true,
				},
			},
		},
		ServerInfo: &protocol.ServerInfo{Name: "flash-lsp", Version: s.opts.Version},
	}, nil
}

func (s *Server) initialized(ctx context.Context, raw json.RawMessage) (any, error) {
	s.mu.Lock()
	dynamic := s.watchDynamic
	folders := append([]string(nil), s.folders...)
	s.mu.Unlock()
	if dynamic {
		go s.registerWatchers()
	}
	// A module at the root of a workspace folder is loaded at once; nested
	// modules when one of their files is opened or changes on disk.
	for _, f := range folders {
		if _, err := os.Stat(filepath.Join(f, "go.mod")); err == nil {
			s.schedule(s.moduleFor(f, true), nil)
		}
	}
	return nil, nil
}

// registerWatchers asks the client to report changes of go.mod, go.sum and
// Go files on disk (edits outside the editor, branch switches).
func (s *Server) registerWatchers() {
	params := &protocol.RegistrationParams{Registrations: []protocol.Registration{{
		ID:     "flash-lsp-watch",
		Method: protocol.MethodWorkspaceDidChangeWatchedFiles,
		RegisterOptions: protocol.DidChangeWatchedFilesRegistrationOptions{
			Watchers: []protocol.FileSystemWatcher{
				{GlobPattern: "**/go.mod"},
				{GlobPattern: "**/go.sum"},
				{GlobPattern: "**/*.go"},
			},
		},
	}}}
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	if _, err := s.conn.Call(ctx, protocol.MethodClientRegisterCapability, params, nil); err != nil {
		s.log.Printf("registering file watchers: %v", err)
		return
	}
	s.log.Printf("watching go.mod, go.sum and *.go through the client")
}

func (s *Server) shutdown(ctx context.Context, raw json.RawMessage) (any, error) {
	s.state.Store(stateShutdown)
	s.mu.Lock()
	for _, ms := range s.modules {
		ms.stop()
	}
	s.mu.Unlock()
	return nil, nil
}

func (s *Server) didOpen(ctx context.Context, raw json.RawMessage) (any, error) {
	var params protocol.DidOpenTextDocumentParams
	if err := decode(raw, &params); err != nil {
		return nil, err
	}
	filename, err := uriToPath(params.TextDocument.URI)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.docs[filename] = &document{
		uri:      params.TextDocument.URI,
		filename: filename,
		version:  params.TextDocument.Version,
		text:     []byte(params.TextDocument.Text),
	}
	s.mu.Unlock()
	s.changed(filename)
	return nil, nil
}

func (s *Server) didChange(ctx context.Context, raw json.RawMessage) (any, error) {
	// The server asks for full sync, where a change has no range; a
	// client that sends ranges anyway gets them applied rather than its
	// buffer replaced by a fragment. (protocol's own type cannot tell a
	// missing range from a zero one.)
	var params struct {
		TextDocument   protocol.VersionedTextDocumentIdentifier `json:"textDocument"`
		ContentChanges []struct {
			Range *protocol.Range `json:"range"`
			Text  string          `json:"text"`
		} `json:"contentChanges"`
	}
	if err := decode(raw, &params); err != nil {
		return nil, err
	}
	filename, err := uriToPath(params.TextDocument.URI)
	if err != nil {
		return nil, err
	}
	if len(params.ContentChanges) == 0 {
		return nil, nil
	}
	s.mu.Lock()
	doc := s.docs[filename]
	if doc == nil {
		doc = &document{uri: params.TextDocument.URI, filename: filename}
		s.docs[filename] = doc
	}
	if params.TextDocument.Version < doc.version {
		s.mu.Unlock()
		return nil, nil // out of order: keep the newer text
	}
	text := doc.text
	for _, c := range params.ContentChanges {
		if c.Range == nil {
			text = []byte(c.Text)
			continue
		}
		m := newMapper(text)
		start, err1 := m.offset(c.Range.Start)
		end, err2 := m.offset(c.Range.End)
		if err1 != nil || err2 != nil || end < start {
			s.mu.Unlock()
			return nil, jsonrpc2.Errorf(jsonrpc2.InvalidParams, "change range %v is outside the document", *c.Range)
		}
		text = append(append(append([]byte(nil), text[:start]...), c.Text...), text[end:]...)
	}
	doc.version = params.TextDocument.Version
	doc.text = text
	s.mu.Unlock()
	s.changed(filename)
	return nil, nil
}

func (s *Server) didClose(ctx context.Context, raw json.RawMessage) (any, error) {
	var params protocol.DidCloseTextDocumentParams
	if err := decode(raw, &params); err != nil {
		return nil, err
	}
	filename, err := uriToPath(params.TextDocument.URI)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	delete(s.docs, filename)
	s.mu.Unlock()
	s.changed(filename) // back to the disk contents
	return nil, nil
}

func (s *Server) didSave(ctx context.Context, raw json.RawMessage) (any, error) {
	return nil, nil // the buffer is already analysed as typed
}

func (s *Server) didChangeWatchedFiles(ctx context.Context, raw json.RawMessage) (any, error) {
	var params protocol.DidChangeWatchedFilesParams
	if err := decode(raw, &params); err != nil {
		return nil, err
	}
	byModule := map[*moduleState][]engine.FileChange{}
	for _, ev := range params.Changes {
		filename, err := uriToPath(ev.URI)
		if err != nil || model.UnderFlashDir(filename) {
			continue
		}
		change := engine.FileChange{
			Name:    filename,
			Created: ev.Type == protocol.FileChangeTypeCreated,
			Deleted: ev.Type == protocol.FileChangeTypeDeleted,
		}
		if filepath.Base(filename) == "go.mod" {
			// A go.mod appearing or vanishing moves packages between a
			// module and the modules around it: all of them reload.
			for _, ms := range s.modulesSorted() {
				if ms.mod.Contains(filename) {
					byModule[ms] = append(byModule[ms], change)
				}
			}
			if change.Deleted {
				continue
			}
		}
		ms := s.moduleFor(filename, filepath.Base(filename) == "go.mod")
		if ms == nil {
			continue
		}
		if !slices.Contains(byModule[ms], change) {
			byModule[ms] = append(byModule[ms], change)
		}
	}
	for ms, changes := range byModule {
		ms.mod.DidChangeFiles(changes)
		s.schedule(ms, nil)
	}
	return nil, nil
}

func (s *Server) didChangeWorkspaceFolders(ctx context.Context, raw json.RawMessage) (any, error) {
	var params protocol.DidChangeWorkspaceFoldersParams
	if err := decode(raw, &params); err != nil {
		return nil, err
	}
	var added []string
	s.mu.Lock()
	for _, f := range params.Event.Removed {
		if p, err := uriToPath(protocol.DocumentURI(f.URI)); err == nil {
			for i, g := range s.folders {
				if g == p {
					s.folders = append(s.folders[:i], s.folders[i+1:]...)
					break
				}
			}
		}
	}
	for _, f := range params.Event.Added {
		if p, err := uriToPath(protocol.DocumentURI(f.URI)); err == nil {
			s.folders = append(s.folders, p)
			added = append(added, p)
		}
	}
	s.mu.Unlock()
	for _, f := range added {
		if _, err := os.Stat(filepath.Join(f, "go.mod")); err == nil {
			s.schedule(s.moduleFor(f, true), nil)
		}
	}
	return nil, nil
}

// changed schedules the analysis of the module holding filename after its
// buffer changed.
func (s *Server) changed(filename string) {
	if !strings.HasSuffix(filename, ".go") || model.UnderFlashDir(filename) {
		return
	}
	ms := s.moduleFor(filename, true)
	if ms == nil {
		return
	}
	s.schedule(ms, []string{filename})
}

// moduleFor returns the module whose root is the nearest directory above
// filename (or filename itself, when it is a directory) holding a go.mod.
// When create is set and the module is new, it is created.
func (s *Server) moduleFor(filename string, create bool) *moduleState {
	dir := filename
	if fi, err := os.Stat(filename); err != nil || !fi.IsDir() {
		dir = filepath.Dir(filename)
	}
	for {
		s.mu.Lock()
		ms := s.modules[dir]
		s.mu.Unlock()
		if ms != nil {
			return ms
		}
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if !create {
				return nil
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			if ms := s.modules[dir]; ms != nil {
				return ms
			}
			ms := newModuleState(s, engine.NewModule(dir, engine.Config{}))
			s.modules[dir] = ms
			return ms
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil
		}
		dir = parent
	}
}

// modulesSorted returns the modules by root directory.
func (s *Server) modulesSorted() []*moduleState {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*moduleState
	for _, ms := range s.modules {
		out = append(out, ms)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].mod.Dir < out[j].mod.Dir })
	return out
}

// document returns a copy of the open buffer for filename.
func (s *Server) document(filename string) (document, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.docs[filename]
	if !ok {
		return document{}, false
	}
	return *d, true
}
