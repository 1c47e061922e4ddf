;; No-op: takes part in pre_cache and lets every query go on.  What a phase call costs
;; when the plugin does nothing (shadowdns bench resolver --plugin noop).
(module
  (func (export "pre_cache") (result i32) (i32.const 0)))
