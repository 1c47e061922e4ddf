;; EDE annotator: every SERVFAIL reply gets an Extended DNS Error (RFC 8914) with the code
;; and text of the plugin's argument, "CODE TEXT" (e.g. "0 resolver of example corp");
;; counted as metric "annotated".  Reads the reply (rcode), writes only an EDE.
;;
;;   resolver serve --plugin ede-annotator:open:'0 see https://status.example'
;;
;; Memory: 16.. constants, 1024..1535 the argument.
(module
  (import "shadowdns.v1" "arg" (func $arg (param i32 i32) (result i32)))
  (import "shadowdns.v1" "rcode" (func $rcode (result i32)))
  (import "shadowdns.v1" "add_ede" (func $add_ede (param i32 i32 i32) (result i32)))
  (import "shadowdns.v1" "metric" (func $metric (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "annotated")

  (func (export "post_resolve") (result i32)
    (local $al i32) (local $i i32) (local $code i32) (local $c i32)
    (if (i32.ne (call $rcode) (i32.const 2)) (then (return (i32.const 0))))
    (local.set $al (call $arg (i32.const 1024) (i32.const 512)))
    (if (i32.gt_u (local.get $al) (i32.const 512)) (then (return (i32.const 0))))
    ;; the decimal code, up to the first space
    (block $end
      (loop $digit
        (br_if $end (i32.ge_u (local.get $i) (local.get $al)))
        (local.set $c (i32.load8_u (i32.add (i32.const 1024) (local.get $i))))
        (br_if $end (i32.eq (local.get $c) (i32.const 32)))
        (if (i32.or (i32.lt_u (local.get $c) (i32.const 48)) (i32.gt_u (local.get $c) (i32.const 57)))
          (then (return (i32.const 0))))
        (local.set $code (i32.add (i32.mul (local.get $code) (i32.const 10))
                                  (i32.sub (local.get $c) (i32.const 48))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $digit)))
    (if (i32.lt_u (local.get $i) (local.get $al))
      (then (local.set $i (i32.add (local.get $i) (i32.const 1)))))
    (if (i32.lt_s (call $add_ede (local.get $code) (i32.add (i32.const 1024) (local.get $i))
                                 (i32.sub (local.get $al) (local.get $i)))
                  (i32.const 0))
      (then (return (i32.const 0))))
    (drop (call $metric (i32.const 16) (i32.const 9) (i32.const 1)))
    (i32.const 1)))
