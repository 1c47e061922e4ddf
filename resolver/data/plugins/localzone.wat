;; Local zone rewrite: for A questions at or below ZONE, the reply is rewritten to one
;; A record ADDRESS (TTL 300) with NOERROR, whatever upstream said (post_resolve);
;; counted as metric "rewritten".
;;
;;   resolver serve --plugin localzone:open:'corp.example 10.1.2.3'
;;
;; The argument is "ZONE ADDRESS": a lower-case name without the final dot, one space, an
;; IPv4 address.  Memory: 0..63 constants, 512..767 the question name, 1024..1279 the
;; argument, 2048.. the record text built here ("QNAME 300 IN A ADDRESS").
(module
  (import "shadowdns.v1" "arg" (func $arg (param i32 i32) (result i32)))
  (import "shadowdns.v1" "qname" (func $qname (param i32 i32) (result i32)))
  (import "shadowdns.v1" "qtype" (func $qtype (result i32)))
  (import "shadowdns.v1" "set_rcode" (func $set_rcode (param i32) (result i32)))
  (import "shadowdns.v1" "clear" (func $clear (param i32) (result i32)))
  (import "shadowdns.v1" "add_record" (func $add_record (param i32 i32 i32) (result i32)))
  (import "shadowdns.v1" "metric" (func $metric (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) " 300 IN A ")
  (data (i32.const 16) "rewritten")

  (func $copy (param $to i32) (param $from i32) (param $n i32)
    (memory.copy (local.get $to) (local.get $from) (local.get $n)))

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

  (func (export "post_resolve") (result i32)
    (local $al i32) (local $zl i32) (local $ql i32) (local $start i32) (local $pos i32)
    (if (i32.ne (call $qtype) (i32.const 1)) (then (return (i32.const 0))))
    (local.set $al (call $arg (i32.const 1024) (i32.const 256)))
    (if (i32.gt_u (local.get $al) (i32.const 256)) (then (return (i32.const 0))))
    ;; the zone ends at the first space
    (local.set $zl (i32.const 0))
    (block $found
      (loop $scan
        (br_if $found (i32.ge_u (local.get $zl) (local.get $al)))
        (br_if $found (i32.eq (i32.load8_u (i32.add (i32.const 1024) (local.get $zl)))
                              (i32.const 32)))
        (local.set $zl (i32.add (local.get $zl) (i32.const 1)))
        (br $scan)))
    (if (i32.or (i32.eqz (local.get $zl)) (i32.ge_u (local.get $zl) (local.get $al)))
      (then (return (i32.const 0))))
    (local.set $ql (call $qname (i32.const 512) (i32.const 256)))
    (if (i32.gt_u (local.get $ql) (i32.const 256)) (then (return (i32.const 0))))
    (local.set $ql (i32.sub (local.get $ql) (i32.const 1)))
    ;; at or below the zone?
    (if (i32.lt_u (local.get $ql) (local.get $zl)) (then (return (i32.const 0))))
    (local.set $start (i32.add (i32.const 512) (i32.sub (local.get $ql) (local.get $zl))))
    (if (i32.gt_u (local.get $ql) (local.get $zl))
      (then
        (if (i32.ne (i32.load8_u (i32.sub (local.get $start) (i32.const 1))) (i32.const 46))
          (then (return (i32.const 0))))))
    (if (i32.eqz (call $eq (local.get $start) (i32.const 1024) (local.get $zl)))
      (then (return (i32.const 0))))
    ;; "QNAME." " 300 IN A " ADDRESS
    (call $copy (i32.const 2048) (i32.const 512) (i32.add (local.get $ql) (i32.const 1)))
    (local.set $pos (i32.add (i32.const 2049) (local.get $ql)))
    (call $copy (local.get $pos) (i32.const 0) (i32.const 10))
    (local.set $pos (i32.add (local.get $pos) (i32.const 10)))
    (call $copy (local.get $pos) (i32.add (i32.const 1025) (local.get $zl))
                (i32.sub (i32.sub (local.get $al) (local.get $zl)) (i32.const 1)))
    (local.set $pos (i32.add (local.get $pos)
                             (i32.sub (i32.sub (local.get $al) (local.get $zl)) (i32.const 1))))
    (drop (call $clear (i32.const 0)))
    (drop (call $clear (i32.const 1)))
    (drop (call $set_rcode (i32.const 0)))
    (if (i32.lt_s (call $add_record (i32.const 0) (i32.const 2048)
                                    (i32.sub (local.get $pos) (i32.const 2048)))
                  (i32.const 0))
      (then (return (i32.const 0))))
    (drop (call $metric (i32.const 16) (i32.const 9) (i32.const 1)))
    (i32.const 1)))
