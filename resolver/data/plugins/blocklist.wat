;; Blocklist: names listed in the plugin's argument, and every name below them, are answered
;; NXDOMAIN with EDE 15 (Blocked) before the cache is asked; counted as metric "blocked".
;; With the argument starting "sinkhole:" they are answered NOERROR instead: A questions
;; with "NAME 300 IN A 0.0.0.0", other types with no record (NODATA), EDE 15 all the same.
;;
;;   resolver serve --plugin blocklist:open:ads.example,tracker.example
;;   resolver serve --plugin blocklist:open:sinkhole:ads.example,tracker.example
;;
;; The list: lower-case names without the final dot, separated by commas or spaces.
;; ABI: shadowdns.v1 (docs/PLUGINS.md).  Memory: 0..63 constants, 512..767 the question
;; name, 1024..32767 the argument (read once, at the first call), 40000.. the A record.
(module
  (import "shadowdns.v1" "arg" (func $arg (param i32 i32) (result i32)))
  (import "shadowdns.v1" "qname" (func $qname (param i32 i32) (result i32)))
  (import "shadowdns.v1" "set_rcode" (func $set_rcode (param i32) (result i32)))
  (import "shadowdns.v1" "add_ede" (func $add_ede (param i32 i32 i32) (result i32)))
  (import "shadowdns.v1" "metric" (func $metric (param i32 i32 i32) (result i32)))
  (import "shadowdns.v1" "qtype" (func $qtype (result i32)))
  (import "shadowdns.v1" "add_record" (func $add_record (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "Blocked")
  (data (i32.const 16) "blocked")
  (data (i32.const 32) "sinkhole:")
  (data (i32.const 48) " 300 IN A 0.0.0.0")
  (global $arglen (mut i32) (i32.const -1))
  (global $list (mut i32) (i32.const 1024))  ;; where the list starts in the argument
  (global $sinkhole (mut i32) (i32.const 0))

  ;; 1 if the n bytes at a and b are equal
  (func $eq (param $a i32) (param $b i32) (param $n i32) (result i32)
    (block $differ
      (loop $next
        (if (i32.eqz (local.get $n)) (then (return (i32.const 1))))
        (br_if $differ (i32.ne (i32.load8_u (local.get $a)) (i32.load8_u (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (i32.const 0))

  ;; 1 if the question name (at 512, $ql bytes without the final dot) is the entry
  ;; [$s, $s+$el) or a name below it
  (func $matches (param $ql i32) (param $s i32) (param $el i32) (result i32)
    (local $start i32)
    (if (i32.eqz (local.get $el)) (then (return (i32.const 0))))
    (if (i32.eq (local.get $ql) (local.get $el))
      (then (return (call $eq (i32.const 512) (local.get $s) (local.get $el)))))
    (if (i32.le_u (local.get $ql) (local.get $el)) (then (return (i32.const 0))))
    (local.set $start (i32.add (i32.const 512) (i32.sub (local.get $ql) (local.get $el))))
    (if (i32.ne (i32.load8_u (i32.sub (local.get $start) (i32.const 1))) (i32.const 46))
      (then (return (i32.const 0))))
    (call $eq (local.get $start) (local.get $s) (local.get $el)))

  (func $listed (result i32)
    (local $ql i32) (local $i i32) (local $s i32) (local $end i32) (local $c i32)
    (if (i32.lt_s (global.get $arglen) (i32.const 0))
      (then
        (global.set $arglen (call $arg (i32.const 1024) (i32.const 31744)))
        (if (i32.gt_u (global.get $arglen) (i32.const 31744))
          (then (global.set $arglen (i32.const 0))))
        (if (i32.and (i32.ge_u (global.get $arglen) (i32.const 9))
                     (call $eq (i32.const 1024) (i32.const 32) (i32.const 9)))
          (then (global.set $sinkhole (i32.const 1))
                (global.set $list (i32.const 1033))))))
    (local.set $ql (call $qname (i32.const 512) (i32.const 256)))
    (if (i32.gt_u (local.get $ql) (i32.const 256)) (then (return (i32.const 0))))
    (local.set $ql (i32.sub (local.get $ql) (i32.const 1)))
    (local.set $end (i32.add (i32.const 1024) (global.get $arglen)))
    (local.set $i (global.get $list))
    (local.set $s (global.get $list))
    (block $done
      (loop $scan
        (local.set $c (i32.load8_u (local.get $i)))
        (if (i32.or (i32.ge_u (local.get $i) (local.get $end))
                    (i32.or (i32.eq (local.get $c) (i32.const 44))
                            (i32.eq (local.get $c) (i32.const 32))))
          (then
            (if (call $matches (local.get $ql) (local.get $s)
                               (i32.sub (local.get $i) (local.get $s)))
              (then (return (i32.const 1))))
            (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
            (local.set $s (i32.add (local.get $i) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $scan)))
    (i32.const 0))

  (func (export "pre_cache") (result i32)
    (local $ql i32)
    (if (i32.eqz (call $listed)) (then (return (i32.const 0))))
    (if (global.get $sinkhole)
      (then
        (drop (call $set_rcode (i32.const 0)))
        (if (i32.eq (call $qtype) (i32.const 1))
          (then
            ;; "QNAME. 300 IN A 0.0.0.0" at 40000 (the question name is at 512 still)
            (local.set $ql (call $qname (i32.const 512) (i32.const 256)))
            (memory.copy (i32.const 40000) (i32.const 512) (local.get $ql))
            (memory.copy (i32.add (i32.const 40000) (local.get $ql)) (i32.const 48)
                         (i32.const 17))
            (drop (call $add_record (i32.const 0) (i32.const 40000)
                                    (i32.add (local.get $ql) (i32.const 17)))))))
      (else (drop (call $set_rcode (i32.const 3)))))
    (drop (call $add_ede (i32.const 15) (i32.const 0) (i32.const 7)))
    (drop (call $metric (i32.const 16) (i32.const 7) (i32.const 1)))
    (i32.const 1)))
