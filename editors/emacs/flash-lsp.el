;;; flash-lsp.el --- flash-lsp for Go buffers, beside gopls  -*- lexical-binding: t -*-

;; Version: 0.1.0
;; Package-Requires: ((emacs "28.1") (eglot "1.9"))
;; Keywords: languages, go, tools
;; URL: https://github.com/flash-lsp/flash-lsp

;;; Commentary:

;; Diagnostics, quick fixes, hover and code generation for //flash:remote
;; directives in Go buffers (go-mode and go-ts-mode).
;;
;; Eglot before Emacs 30 runs one language server per major mode and
;; project, so a Go buffer gets either gopls or flash-lsp from eglot.
;; `flash-lsp-eglot-server' chooses:
;;
;;   'flash-lsp (the default): eglot runs `flash-lsp serve' for Go buffers,
;;              with everything the server offers (diagnostics as you type,
;;              quick fixes, hover, completion, `flash-lsp-generate').
;;   'gopls:    eglot keeps gopls, and `flash-lsp-flymake-mode' adds
;;              flash-lsp's findings to Flymake from `flash-lsp check' on
;;              the saved file (no quick fixes or hover from flash-lsp then).
;;
;; Setup:
;;
;;   (add-to-list 'load-path "~/src/flash-lsp/editors/emacs")
;;   (require 'flash-lsp)
;;   (flash-lsp-setup)
;;   (add-hook 'go-mode-hook #'eglot-ensure)

;;; Code:

(require 'eglot)
(require 'flymake)
(require 'json)
(require 'seq)
(require 'cl-lib)

(defgroup flash-lsp nil
  "Flash directives in Go code, checked by flash-lsp."
  :group 'tools
  :prefix "flash-lsp-")

(defcustom flash-lsp-program "flash-lsp"
  "The flash-lsp binary: a name looked up on `exec-path', or a file name.
Install it with `flash-lsp-install-command'."
  :type 'string)

(defcustom flash-lsp-serve-args nil
  "Extra arguments after `flash-lsp serve'.
For example (\"--logfile\" \"/tmp/flash-lsp.log\")."
  :type '(repeat string))

(defcustom flash-lsp-eglot-server 'flash-lsp
  "Which server eglot runs for Go buffers.
`flash-lsp': eglot runs flash-lsp.  `gopls': eglot keeps gopls and
`flash-lsp-flymake-mode' reports flash-lsp's findings on save.
Takes effect in `flash-lsp-setup'."
  :type '(choice (const :tag "flash-lsp in eglot" flash-lsp)
                 (const :tag "gopls in eglot, flash-lsp through Flymake" gopls)))

(defconst flash-lsp-install-command
  "go install github.com/flash-lsp/flash-lsp/cmd/flash-lsp@latest"
  "The command that installs flash-lsp.")

(defconst flash-lsp--modes '(go-mode go-ts-mode)
  "The major modes of Go buffers.")

(defun flash-lsp--executable ()
  "The flash-lsp program to run, or a `user-error' saying how to install it."
  (or (if (file-name-absolute-p flash-lsp-program)
          (and (file-executable-p flash-lsp-program) flash-lsp-program)
        (executable-find flash-lsp-program))
      (user-error "flash-lsp: %s was not found; install it with `%s' or set `flash-lsp-program'"
                  flash-lsp-program flash-lsp-install-command)))

(defun flash-lsp-eglot-contact (&optional _interactive)
  "The command line of the server, for `eglot-server-programs'."
  (append (list (flash-lsp--executable) "serve") flash-lsp-serve-args))

;;;###autoload
(defun flash-lsp-setup ()
  "Set flash-lsp up for Go buffers as `flash-lsp-eglot-server' says."
  (interactive)
  (pcase flash-lsp-eglot-server
    ('flash-lsp
     (setq eglot-server-programs
           (cons (cons flash-lsp--modes #'flash-lsp-eglot-contact)
                 (seq-remove (lambda (entry) (eq (cdr entry) #'flash-lsp-eglot-contact))
                             eglot-server-programs)))
     (dolist (hook '(go-mode-hook go-ts-mode-hook))
       (remove-hook hook #'flash-lsp-flymake-mode)))
    ('gopls
     (setq eglot-server-programs
           (seq-remove (lambda (entry) (eq (cdr entry) #'flash-lsp-eglot-contact))
                       eglot-server-programs))
     (dolist (hook '(go-mode-hook go-ts-mode-hook))
       (add-hook hook #'flash-lsp-flymake-mode)))
    (other (user-error "flash-lsp-eglot-server is %S, not flash-lsp or gopls" other))))

(defun flash-lsp--eglot-server ()
  "The eglot server of this buffer when it is flash-lsp, else nil."
  (let ((server (and (fboundp 'eglot-current-server) (eglot-current-server))))
    (and server
         (let ((cmd (process-command (jsonrpc--process server))))
           (and cmd (string-match-p "flash-lsp" (file-name-nondirectory (car cmd)))))
         server)))

(defun flash-lsp--module-root ()
  "The directory of the nearest go.mod above this buffer's file."
  (let ((dir (and buffer-file-name
                  (locate-dominating-file buffer-file-name "go.mod"))))
    (or dir (user-error "flash-lsp: no go.mod above %s" (or buffer-file-name (buffer-name))))))

;;;###autoload
(defun flash-lsp-generate ()
  "Generate handlers and the manifest for this buffer's module.
Through the eglot server when it is flash-lsp (it reports the result
itself and refuses while errors exist), else with `flash-lsp generate'."
  (interactive)
  (let ((server (flash-lsp--eglot-server)))
    (if server
        (condition-case err
            (progn
              (eglot-execute-command server 'flash.generate
                                     (vector (list :uri (eglot--path-to-uri
                                                         (or buffer-file-name default-directory)))))
              t)
          ;; A refusal (errors in the project) arrives both as the request's
          ;; error and as a window/showMessage, which eglot has shown.
          (jsonrpc-error
           (message "flash-lsp: %s" (or (alist-get 'jsonrpc-error-message (cdr err)) err))
           nil))
      (let* ((default-directory (flash-lsp--module-root))
             (buf (get-buffer-create "*flash-lsp generate*"))
             (code (with-current-buffer buf
                     (let ((inhibit-read-only t)) (erase-buffer))
                     (call-process (flash-lsp--executable) nil buf nil "generate"))))
        (if (eql code 0)
            (message "flash-lsp: generated in %s" default-directory)
          (display-buffer buf)
          (message "flash-lsp generate failed (exit %s); see %s" code (buffer-name buf)))
        code))))

;;; Flymake, for `flash-lsp-eglot-server' = gopls.

(defvar-local flash-lsp--flymake-proc nil
  "The running `flash-lsp check' of this buffer.")

(defun flash-lsp-flymake (report-fn &rest _args)
  "A Flymake backend: the findings of `flash-lsp check' for this buffer's package.
It checks the saved file; unsaved changes are checked on the next save."
  (when (process-live-p flash-lsp--flymake-proc)
    (kill-process flash-lsp--flymake-proc))
  (let* ((source (current-buffer))
         (file buffer-file-name)
         (root (and file (locate-dominating-file file "go.mod"))))
    (if (not root)
        (funcall report-fn nil)
      (let* ((root (expand-file-name root))
             (pkg (concat "./" (directory-file-name
                                (or (file-relative-name (file-name-directory file) root) "."))))
             (out (generate-new-buffer " *flash-lsp check*")))
        (setq flash-lsp--flymake-proc
              (make-process
               :name "flash-lsp-check"
               :buffer out
               :noquery t
               :connection-type 'pipe
               :stderr (get-buffer-create " *flash-lsp check stderr*")
               :command (list (flash-lsp--executable) "check" "-C" root "--format" "json" pkg)
               :sentinel
               (lambda (proc _event)
                 (when (memq (process-status proc) '(exit signal))
                   (unwind-protect
                       (when (and (buffer-live-p source)
                                  (eq proc (buffer-local-value 'flash-lsp--flymake-proc source)))
                         (if (not (memq (process-exit-status proc) '(0 1)))
                             (funcall report-fn :panic
                                      :explanation (format "flash-lsp check exited %d"
                                                           (process-exit-status proc)))
                           (funcall report-fn
                                    (flash-lsp--flymake-diagnostics source root file out))))
                     (kill-buffer out))))))))))

(defun flash-lsp--flymake-diagnostics (source root file out)
  "Flymake diagnostics in SOURCE for FILE from the JSON in buffer OUT.
Finding positions are 1-based lines and byte columns relative to ROOT."
  (let ((findings (with-current-buffer out
                    (goto-char (point-min))
                    (if (looking-at-p "[ \t\n]*\\'")
                        nil
                      (json-parse-buffer :object-type 'plist :array-type 'list)))))
    (with-current-buffer source
      (save-excursion
        (save-restriction
          (widen)
          (cl-loop
           for f in findings
           when (file-equal-p (expand-file-name (plist-get f :file) root) file)
           collect
           (flymake-make-diagnostic
            source
            (flash-lsp--position (plist-get f :line) (plist-get f :col))
            (flash-lsp--position (plist-get f :end_line) (plist-get f :end_col))
            (if (equal (plist-get f :severity) "warning") :warning :error)
            (format "%s [%s]" (plist-get f :message) (plist-get f :rule)))))))))

(defun flash-lsp--position (line col)
  "The buffer position of 1-based LINE and 1-based byte column COL."
  (goto-char (point-min))
  (forward-line (1- line))
  (min (line-end-position)
       (byte-to-position (+ (position-bytes (point)) (1- col)))))

;;;###autoload
(define-minor-mode flash-lsp-flymake-mode
  "Flymake reports flash-lsp's findings in this Go buffer (on save)."
  :lighter nil
  (if flash-lsp-flymake-mode
      (progn
        (add-hook 'flymake-diagnostic-functions #'flash-lsp-flymake nil t)
        ;; eglot replaces the buffer's Flymake backends with its own when it
        ;; starts managing the buffer: add this one back.
        (add-hook 'eglot-managed-mode-hook #'flash-lsp--readd-backend nil t)
        (flymake-mode 1))
    (remove-hook 'flymake-diagnostic-functions #'flash-lsp-flymake t)
    (remove-hook 'eglot-managed-mode-hook #'flash-lsp--readd-backend t)))

(defun flash-lsp--readd-backend ()
  "Put `flash-lsp-flymake' back among the Flymake backends after eglot's."
  (when flash-lsp-flymake-mode
    (add-hook 'flymake-diagnostic-functions #'flash-lsp-flymake t t)))

(provide 'flash-lsp)
;;; flash-lsp.el ends here
