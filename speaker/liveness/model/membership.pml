/*
 * A model of the speakers' membership and election protocol (speaker/liveness,
 * speaker/election/agreement.ts, speaker/shell/speaker.ts, speaker/l2/claims.ts),
 * checked with SPIN: three speakers, one IP group, beats lost at will on any
 * directed link (loss, one-way loss, partitions), speakers crashing and
 * restarting as new incarnations. What it proves and what it abstracts away
 * is written in docs/ARCHITECTURE.md ("The model").
 *
 * Time runs in rounds: in each, every live speaker sends one beat on every
 * link the faults leave up, then every speaker decides, then every age grows
 * by one. A round is one heartbeat interval.
 */

#define N 3
#define W 3          /* a peer is dropped W rounds after its last fresh beat (3.5 beats, rounded down) */
#define M 1          /* support lapses M rounds before a peer could drop us */
#define SETTLE W     /* a detached speaker claims only SETTLE rounds after its agreed claims stopped */
#define NONE 255

#define AGREED 0
#define DETACHED 1
#define WAITING 2

/* The rendezvous order for the one group: node 1 first, then 0, then 2. */
#define RANK(n) ((n) == 1 -> 0 : ((n) == 0 -> 1 : 2))

/* per ordered pair (observer j, peer i): index j*N+i */
#define P(j, i) ((j) * N + (i))

bool linkUp[N * N];   /* beats pass from i to j (index P(i, j)) */
bool alive[N];
bit  inc[N];          /* incarnation; a restart flips it */
byte listen[N];       /* rounds of listening left after a (re)start */

/* What observer j knows of peer i. */
byte fresh[N * N];    /* rounds since j's last fresh beat from i (W: dropped) */
byte ack[N * N];      /* age of j's own beat that i's last fresh beat acknowledged */
bool hearsMe[N * N];
bool inViewMe[N * N];
bool peerJoining[N * N];
byte peerView[N * N]; /* bitmask, from i's last fresh beat */
byte latestView[N * N];  /* bitmask, from i's last beat, fresh or not */
byte heardAge[N * N]; /* rounds since j received any beat of i's current incarnation */
bit  seenInc[N * N];  /* the incarnation of i that j tracks */

byte view[N];         /* the view i's claims were elected over (beats carry it) */
byte prevView[N];     /* the view of the round before */
byte mode[N];
byte detachedFor[N];  /* rounds since i stopped claiming under an agreement */
byte agreedFor[N];    /* rounds the agreement on the group has held (for a group not claimed yet) */
bool probing[N];      /* a detached speaker that probed last round and saw nobody */
bool claims[N];
bool healed = false;  /* no more faults from now on */

byte nclaims;
byte agreedClaims;   /* claims under an agreement, counted before the wire resolves anything */

inline owner(v, o) {
  /* the first node in rendezvous order that is in view v */
  o = NONE;
  if
  :: (v & 2) -> o = 1
  :: else ->
     if
     :: (v & 1) -> o = 0
     :: else -> if :: (v & 4) -> o = 2 :: else -> skip fi
     fi
  fi
}

inline countClaims() {
  nclaims = claims[0] + claims[1] + claims[2]
}

/* One beat from i to j: j learns what i says of j and of itself. */
inline deliver(i, j) {
  if
  :: seenInc[P(j, i)] != inc[i] ->
     /* a new incarnation: forget the old one's word */
     seenInc[P(j, i)] = inc[i]; fresh[P(j, i)] = W; hearsMe[P(j, i)] = false; inViewMe[P(j, i)] = false
  :: else -> skip
  fi;
  heardAge[P(j, i)] = 0;
  latestView[P(j, i)] = view[i];
  /* Fresh: i acknowledges a beat of j's current incarnation sent within the window. */
  if
  :: (seenInc[P(i, j)] == inc[j] && fresh[P(i, j)] < W) ->
     fresh[P(j, i)] = 0;
     ack[P(j, i)] = fresh[P(i, j)];
     hearsMe[P(j, i)] = true;
     inViewMe[P(j, i)] = ((view[i] >> j) & 1);
     peerJoining[P(j, i)] = (listen[i] > 0 || mode[i] == WAITING);
     peerView[P(j, i)] = view[i]
  :: else ->
     /* not fresh: only what it withdraws counts */
     hearsMe[P(j, i)] = false;
     inViewMe[P(j, i)] = false
  fi
}

#define isMember(j, i) (fresh[P(j, i)] < W && hearsMe[P(j, i)] && !peerJoining[P(j, i)])
#define supports(j, i) (fresh[P(j, i)] < W && hearsMe[P(j, i)] && inViewMe[P(j, i)] && ack[P(j, i)] < W - M)

byte k, o, o2, v, members, vouched, cnt;
bool agree, anyOther, without, released, failover;

inline decide(i) {
  if
  :: !alive[i] -> claims[i] = false; mode[i] = WAITING
  :: else ->
     prevView[i] = view[i];
     members = (1 << i); vouched = 1;
     k = 0;
     do
     :: k < N ->
        if
        :: k != i && isMember(i, k) -> members = members | (1 << k)
        :: else -> skip
        fi;
        if
        :: k != i && supports(i, k) -> vouched++
        :: else -> skip
        fi;
        k++
     :: else -> break
     od;
     if
     :: listen[i] > 0 ->
        mode[i] = WAITING; claims[i] = false; probing[i] = false; view[i] = members; agreedFor[i] = 0
     :: listen[i] == 0 && vouched * 2 > N ->
        /* agreed: own the group in our view and in the view of every member and every supporter */
        mode[i] = AGREED; view[i] = members; detachedFor[i] = 0; probing[i] = false;
        owner(members, o);
        agree = (o == i);
        k = 0;
        do
        :: k < N ->
           if
           :: k != i && (((members >> k) & 1) || supports(i, k)) ->
              owner(peerView[P(i, k)], o2);
              agree = agree && (o2 == i)
           :: else -> skip
           fi;
           k++
        :: else -> break
        od;
        /*
         * A group not yet claimed: when its owner in our previous view left our
         * view, it failed over (it fenced itself before any of us dropped it) and
         * we claim at once. Otherwise it comes to us because we (re)joined, and a
         * node ranked below us may still hold it, on older views of supporters we
         * share: we claim once each such node we hear has acknowledged a beat we
         * sent after this agreement began, with us in its view (it let go), and
         * once a window has passed for any we do not hear (it has lost its
         * support or seen the newer views by then).
         */
        if
        :: agree && !claims[i] ->
           owner(prevView[i], o2);
           failover = (o2 != NONE && o2 != i && !((members >> o2) & 1));
           released = true;
           k = 0;
           do
           :: k < N ->
              if
              :: k != i && RANK(k) > RANK(i) && (isMember(i, k) || supports(i, k)) && !(((peerView[P(i, k)] >> i) & 1) && ack[P(i, k)] <= agreedFor[i]) -> released = false
              :: k != i && RANK(k) > RANK(i) && !(isMember(i, k) || supports(i, k)) && agreedFor[i] < W -> released = false
              :: else -> skip
              fi;
              k++
           :: else -> break
           od;
           if
           :: failover || released -> claims[i] = true
           :: else -> agreedFor[i]++
           fi
        :: agree && claims[i] -> skip
        :: !agree -> claims[i] = false; agreedFor[i] = 0
        fi
     :: listen[i] == 0 && vouched * 2 <= N ->
        if
        :: mode[i] == AGREED -> detachedFor[i] = 0; claims[i] = false
        :: else -> skip
        fi;
        mode[i] = DETACHED; view[i] = members; agreedFor[i] = 0;
        /* a heard peer acting with a majority that leaves us out: stay silent */
        without = false;
        k = 0;
        do
        :: k < N ->
           v = latestView[P(i, k)];
           cnt = ((v & 1) + ((v >> 1) & 1) + ((v >> 2) & 1));
           if
           :: k != i && heardAge[P(i, k)] < W && cnt * 2 > N && !((v >> i) & 1) -> without = true
           :: else -> skip
           fi;
           k++
        :: else -> break
        od;
        /* the API shows all three Ready: its view elects the first in rendezvous order */
        owner(7, o);
        if
        :: without || o != i || detachedFor[i] < SETTLE -> claims[i] = false; probing[i] = false
        :: else ->
           /* probe first: claim only if nobody answered the probe sent last round (ARP always passes) */
           anyOther = false;
           k = 0;
           do
           :: k < N -> if :: k != i && claims[k] -> anyOther = true :: else -> skip fi; k++
           :: else -> break
           od;
           if
           :: claims[i] -> skip
           :: anyOther -> probing[i] = false
           :: !anyOther && !probing[i] -> probing[i] = true
           :: !anyOther && probing[i] -> claims[i] = true; probing[i] = false
           fi
        fi
     fi
  fi
}

/* Two answering the same IP see each other (ARP) and one backs off: the lower rank keeps it. */
inline resolve() {
  k = 0;
  do
  :: k < N ->
     o2 = 0;
     do
     :: o2 < N ->
        if
        :: o2 != k && claims[k] && claims[o2] && RANK(o2) < RANK(k) -> claims[k] = false
        :: else -> skip
        fi;
        o2++
     :: else -> break
     od;
     k++
  :: else -> break
  od
}

inline age() {
  k = 0;
  do
  :: k < N * N ->
     if :: fresh[k] < W -> fresh[k]++ :: else -> skip fi;
     if :: ack[k] < W -> ack[k]++ :: else -> skip fi;
     if :: heardAge[k] < W -> heardAge[k]++ :: else -> skip fi;
     k++
  :: else -> break
  od;
  k = 0;
  do
  :: k < N ->
     if :: listen[k] > 0 -> listen[k]-- :: else -> skip fi;
     if :: detachedFor[k] < SETTLE -> detachedFor[k]++ :: else -> skip fi;
     k++
  :: else -> break
  od
}

byte i, j, faults;

init {
  /* start: everyone alive, hearing everyone, agreed on the full view; node 1 claims */
  atomic {
    i = 0;
    do
    :: i < N * N -> linkUp[i] = true; fresh[i] = 1; ack[i] = 1; hearsMe[i] = true; inViewMe[i] = true; peerView[i] = 7; latestView[i] = 7; heardAge[i] = 1; i++
    :: else -> break
    od;
    i = 0;
    do
    :: i < N -> alive[i] = true; view[i] = 7; prevView[i] = 7; mode[i] = AGREED; detachedFor[i] = SETTLE; i++
    :: else -> break
    od;
    claims[1] = true;
    countClaims()
  }
  do
  :: atomic {
       /* faults, until they stop for good */
       if
       :: healed -> skip
       :: !healed && faults < 6 ->
          faults++;
          if
          :: i = 0; do :: i < N * N -> linkUp[i] = !linkUp[i]; break :: i < N * N - 1 -> i++ od   /* flip one link */
          :: j = 0; do :: j < N -> break :: j < N - 1 -> j++ od;                                    /* crash or restart one speaker */
             if
             :: alive[j] -> alive[j] = false; claims[j] = false
             :: !alive[j] -> alive[j] = true; inc[j] = 1 - inc[j]; listen[j] = W; view[j] = (1 << j); mode[j] = WAITING;
                i = 0; do :: i < N -> fresh[P(j, i)] = W; hearsMe[P(j, i)] = false; inViewMe[P(j, i)] = false; heardAge[P(j, i)] = W; i++ :: else -> break od
             fi
          :: skip   /* a round without a new fault */
          fi
       :: !healed ->
          /* from now on every link passes beats and every speaker runs */
          healed = true;
          i = 0; do :: i < N * N -> linkUp[i] = true; i++ :: else -> break od;
          i = 0; do :: i < N -> if :: !alive[i] -> alive[i] = true; inc[i] = 1 - inc[i]; listen[i] = W; view[i] = (1 << i); mode[i] = WAITING :: else -> skip fi; i++ :: else -> break od
       fi;
       /* beats */
       i = 0;
       do
       :: i < N ->
          j = 0;
          do
          :: j < N -> if :: i != j && alive[i] && alive[j] && linkUp[P(i, j)] -> deliver(i, j) :: else -> skip fi; j++
          :: else -> break
          od;
          i++
       :: else -> break
       od;
       /* decisions */
       decide(0); decide(1); decide(2);
       agreedClaims = (claims[0] && mode[0] == AGREED) + (claims[1] && mode[1] == AGREED) + (claims[2] && mode[2] == AGREED);
       resolve();
       countClaims();
       age()
     }
  od
}

/* Once messages flow again, at most one speaker claims the group, and one does, for ever. */
ltl converges { [] (healed -> <> [] (nclaims == 1)) }

/* Under every fault, never two speakers claiming under an agreement at once (majorities, agreement and the fence alone, without the wire's duplicate detection). */
ltl agreed_safe { [] (agreedClaims <= 1) }
