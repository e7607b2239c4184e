;;; e2e.el --- drives eglot and flash-lsp.el in emacs --batch  -*- lexical-binding: t -*-

;; Run by e2e_test.go: emacs --batch -l e2e.el. The spec (a JSON object)
;; is in the file named by FLASH_E2E_SPEC; the findings go, as JSON, to the
;; file named by its "out". A failed step records "error" and exits 1.



(require 'cl-lib)
(require 'json)

(defvar e2e-spec (with-temp-buffer
                   (insert-file-contents (getenv "FLASH_E2E_SPEC"))
                   (json-parse-buffer :object-type 'plist :array-type 'list)))
(defvar e2e-result (list :steps []))
(defvar e2e-messages nil "window/showMessage notifications: (type . message).")

(defun e2e-put (key value)
  (setq e2e-result (plist-put e2e-result key value)))

(defun e2e-step (name)
  (e2e-put :steps (vconcat (plist-get e2e-result :steps) (list name)))
  (message "e2e: %s done" name))

(defun e2e-write ()
  (with-temp-file (plist-get e2e-spec :out)
    (insert (json-serialize e2e-result :null-object nil :false-object :json-false))))

(defun e2e-idle ()
  "Run the idle timers, as an idle interactive Emacs would.
Batch Emacs never becomes idle, and eglot sends didChange from an idle timer."
  (dolist (timer (copy-sequence timer-idle-list))
    (when (memq timer timer-idle-list)
      (timer-event-handler timer))))

(defun e2e-wait (what pred &optional timeout)
  "Pump events until PRED returns non-nil (its value is returned) or TIMEOUT seconds."
  (let ((deadline (+ (float-time) (or timeout 60)))
        value)
    (while (and (not (setq value (funcall pred)))
                (< (float-time) deadline))
      (accept-process-output nil 0.05)
      (e2e-idle))
    (or value (error "timed out waiting for %s" what))))

(defun e2e-diags ()
  "The Flymake diagnostics of this buffer as plists: 1-based line and column, code, message."
  (save-restriction
    (widen)
    (vconcat
     (sort
      (mapcar (lambda (d)
               (let* ((beg (flymake-diagnostic-beg d))
                      (lsp (cdr (assoc 'eglot-lsp-diag (flymake-diagnostic-data d))))
                      (text (flymake-diagnostic-text d))
                      (code (or (plist-get lsp :code)
                                (and (string-match "\\[\\([a-z-]+\\)\\]\\'" text)
                                     (match-string 1 text)))))
                 (list :line (line-number-at-pos beg t)
                       :col (save-excursion
                              (goto-char beg)
                              ;; byte column, as flash-lsp check reports it
                              (1+ (- (position-bytes beg) (position-bytes (line-beginning-position)))))
                       :code code
                       :type (symbol-name (flymake-diagnostic-type d))
                       :message text)))
             (flymake-diagnostics))
      (lambda (a b) (< (plist-get a :line) (plist-get b :line)))))))

(defun e2e-has (code &optional line)
  (cl-some (lambda (d) (and (equal (plist-get d :code) code)
                            (or (null line) (= (plist-get d :line) line))))
           (e2e-diags)))

(defun e2e-goto (line col)
  "Move to 1-based LINE and 1-based byte column COL."
  (goto-char (point-min))
  (forward-line (1- line))
  (goto-char (byte-to-position (+ (position-bytes (point)) (1- col)))))

(defun e2e-eglot-file (file)
  "Visit FILE the way the README says, with eglot-ensure from go-mode-hook."
  (find-file file)
  (unless (eq major-mode 'go-mode)
    (error "%s opened in %s, not go-mode" file major-mode))
  ;; eglot-ensure connects from post-command-hook, which batch Emacs runs
  ;; only when told to.
  (run-hooks 'post-command-hook)
  (e2e-wait "eglot to manage the buffer" (lambda () (eglot-managed-p)) 30))

(defun e2e-hover ()
  "The text eglot's eldoc hover function produces at point."
  (let (result)
    (eglot-hover-eldoc-function (lambda (info &rest _) (setq result (or info ""))))
    (e2e-wait "hover" (lambda () result) 30)))

(defun e2e-run-eglot ()
  (add-to-list 'load-path (plist-get e2e-spec :lisp))
  (require 'go-mode)
  (require 'eglot)
  (require 'flash-lsp)
  (advice-add 'eglot-handle-notification :before
              (lambda (_server method &rest params)
                (when (eq method 'window/showMessage)
                  (push (list :type (plist-get params :type) :message (plist-get params :message)) e2e-messages))))
  (setq eglot-sync-connect 30)
  (flash-lsp-setup)
  (add-hook 'go-mode-hook #'eglot-ensure)

  ;; 1. The broken project: diagnostics, hover, quick fix, unsaved edit.
  (let ((file (plist-get e2e-spec :file))
        (fix (plist-get e2e-spec :fix)))
    (e2e-eglot-file file)
    (e2e-put :server (car (process-command (jsonrpc--process (eglot-current-server)))))
    (e2e-wait "the first diagnostics"
              (lambda () (>= (length (e2e-diags)) (plist-get e2e-spec :initial_count))))
    (e2e-put :initial (e2e-diags))
    (e2e-step "diagnostics")

    (e2e-goto (plist-get fix :line) (plist-get fix :col))
    (let ((diag (cl-find-if (lambda (d) (equal (plist-get (cdr (assoc 'eglot-lsp-diag (flymake-diagnostic-data d))) :code)
                                               (plist-get fix :code)))
                            (flymake-diagnostics (point)))))
      (unless diag (error "no %s diagnostic at point" (plist-get fix :code)))
      (e2e-put :fix_title
               (plist-get (car (eglot-code-actions (flymake-diagnostic-beg diag) (flymake-diagnostic-end diag) "quickfix"))
                          :title))
      ;; What M-x eglot-code-actions does: with one action of the kind, it is applied.
      (eglot-code-actions (flymake-diagnostic-beg diag) (flymake-diagnostic-end diag) "quickfix" t))
    (save-buffer)
    (e2e-wait "the fixed diagnostic to go"
              (lambda () (not (e2e-has (plist-get fix :code) (plist-get fix :line)))))
    (e2e-put :after_fix (e2e-diags))
    (e2e-step "quick fix")

    (let ((hover (plist-get e2e-spec :hover)))
      (e2e-goto (plist-get hover :line) (plist-get hover :col))
      (e2e-put :hover (e2e-hover)))
    (e2e-step "hover")

    ;; Typing without saving: a new diagnostic, nothing on disk.
    (let ((edit (plist-get e2e-spec :edit)))
      (goto-char (point-min))
      (forward-line (1- (plist-get edit :line)))
      (end-of-line)
      (insert (plist-get edit :text))
      (e2e-wait "the diagnostic of the unsaved edit"
                (lambda () (e2e-has (plist-get edit :code) (plist-get edit :line))))
      (e2e-put :unsaved (e2e-diags))
      (e2e-put :modified (if (buffer-modified-p) t :json-false))
      ;; Generate refuses while errors exist.
      (flash-lsp-generate)
      (e2e-wait "generate's answer" (lambda () e2e-messages) 60)
      (e2e-put :refused (car e2e-messages))
      (setq e2e-messages nil)
      (set-buffer-modified-p nil)
      (kill-buffer))
    (e2e-step "unsaved edit"))

  ;; 2. A project without errors: flash-lsp-generate writes .flash/.
  (e2e-eglot-file (plist-get e2e-spec :clean_file))
  (flash-lsp-generate)
  (e2e-wait "generate's answer" (lambda () e2e-messages) 120)
  (e2e-put :generated (car e2e-messages))
  (e2e-step "generate")
  ;; eglot 1.9 deletes the server's process right after `exit' (jsonrpc-shutdown),
  ;; so how the server exits is the Neovim test's to check, not this one's.
  (eglot-shutdown (eglot-current-server))
  (e2e-step "shutdown"))

(defun e2e-run-flymake ()
  "The gopls variant: eglot is left alone, Flymake gets flash-lsp check's findings."
  (add-to-list 'load-path (plist-get e2e-spec :lisp))
  (require 'go-mode)
  (require 'flash-lsp)
  (setq flash-lsp-eglot-server 'gopls)
  (flash-lsp-setup)
  (find-file (plist-get e2e-spec :file))
  (e2e-put :flymake_mode (if flash-lsp-flymake-mode t :json-false))
  (e2e-put :eglot_programs (if (cl-some (lambda (e) (eq (cdr e) #'flash-lsp-eglot-contact)) eglot-server-programs) t :json-false))
  (flymake-start)
  (e2e-wait "flymake diagnostics"
            (lambda () (>= (length (e2e-diags)) (plist-get e2e-spec :initial_count))))
  (e2e-put :initial (e2e-diags))
  (e2e-step "flymake")
  (kill-buffer)
  (find-file (plist-get e2e-spec :clean_file))
  (e2e-put :generate_exit (flash-lsp-generate))
  (e2e-step "generate"))

(condition-case err
    (progn
      (pcase (plist-get e2e-spec :mode)
        ("eglot" (e2e-run-eglot))
        ("flymake" (e2e-run-flymake))
        (m (error "unknown mode %S" m)))
      (e2e-write)
      (kill-emacs 0))
  (error
   (e2e-put :error (error-message-string err))
   (e2e-put :diags (ignore-errors (e2e-diags)))
   (e2e-put :messages (vconcat e2e-messages))
   (e2e-put :events (ignore-errors
                      (let ((b (and (eglot-current-server) (jsonrpc-events-buffer (eglot-current-server)))))
                        (and b (with-current-buffer b
                                 (buffer-substring-no-properties (max (point-min) (- (point-max) 200000)) (point-max)))))))
   (e2e-write)
   (kill-emacs 1)))
