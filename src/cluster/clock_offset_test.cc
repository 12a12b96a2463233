#include "volley/cluster/clock_offset.h"

#include <gtest/gtest.h>

namespace volley::cluster {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

// One exchange with a leader whose wall clock is `offset` ahead of the local steady clock:
// `out` on the way there, `back` on the way back, `hold` inside the leader.
ClockSample Exchange(Nanos at, Nanos offset, Nanos out, Nanos hold, Nanos back) {
  ClockSample s;
  s.t0 = at;
  s.t1 = at + out + offset;
  s.t2 = s.t1 + hold;
  s.t3 = at + out + hold + back;
  return s;
}

TEST(ClockOffset, SymmetricPathsGiveTheExactOffset) {
  const Nanos offset = std::chrono::seconds(1'700'000'000);
  auto est = EstimateOffset(
      {Exchange(milliseconds(5), offset, microseconds(300), microseconds(40), microseconds(300))});
  ASSERT_TRUE(est.has_value()) << est.error().message;
  EXPECT_EQ(est->offset, offset);
  EXPECT_EQ(est->uncertainty, microseconds(300));
  EXPECT_EQ(est->LocalAt(offset + milliseconds(7)), milliseconds(7));
}

TEST(ClockOffset, TheSampleWithTheShortestRoundTripWinsAndBoundsTheError) {
  const Nanos offset = milliseconds(-2500);  // the leader's clock may be behind too
  std::vector<ClockSample> samples = {
      Exchange(milliseconds(1), offset, milliseconds(30), microseconds(10), microseconds(100)),
      Exchange(milliseconds(50), offset, microseconds(200), microseconds(10), microseconds(260)),
      Exchange(milliseconds(90), offset, microseconds(100), microseconds(10), milliseconds(40)),
  };
  auto est = EstimateOffset(samples);
  ASSERT_TRUE(est.has_value());
  EXPECT_EQ(est->samples, 3u);
  EXPECT_EQ(est->uncertainty, microseconds(230));
  // Asymmetric paths err by half the difference, within the uncertainty.
  EXPECT_EQ(est->offset, offset - microseconds(30));
  EXPECT_LE((est->offset - offset).count() < 0 ? (offset - est->offset) : (est->offset - offset),
            est->uncertainty);
}

TEST(ClockOffset, NonCausalSamplesAreIgnoredAndNoneUsableIsAnError) {
  ClockSample backwards =
      Exchange(milliseconds(10), Nanos(0), microseconds(5), microseconds(1), microseconds(5));
  std::swap(backwards.t0, backwards.t3);
  ClockSample held_longer =
      Exchange(milliseconds(10), Nanos(0), microseconds(5), microseconds(1), microseconds(5));
  held_longer.t2 += milliseconds(1);  // the leader held it longer than the round trip
  auto none = EstimateOffset({backwards, held_longer});
  ASSERT_FALSE(none.has_value());
  EXPECT_NE(none.error().message.find("no usable sample"), std::string::npos);
  EXPECT_FALSE(EstimateOffset({}).has_value());
  auto one = EstimateOffset({backwards, Exchange(milliseconds(20), milliseconds(3),
                                                 microseconds(50), Nanos(0), microseconds(50))});
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->samples, 1u);
  EXPECT_EQ(one->offset, milliseconds(3));
}

}  // namespace
}  // namespace volley::cluster
